package dev.transact4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * An ordered list of modules, registered as children named {@code "0"}, {@code "1"}, ..., as
 * {@code torch.nn.ModuleList}; Llama's decoder layers are {@code model.layers.<i>}.
 */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {

    private final List<M> items = new ArrayList<>();

    /** Creates an empty list. */
    public ModuleList() {
    }

    /** Creates a list holding {@code modules} in order. */
    public ModuleList(List<? extends M> modules) {
        for (M m : modules) {
            add(m);
        }
    }

    /** Appends {@code module} under the next index and returns it. */
    public M add(M module) {
        registerModule(Integer.toString(items.size()), module);
        items.add(module);
        return module;
    }

    /** Returns the module at {@code index}. */
    public M get(int index) {
        return items.get(index);
    }

    /** Returns the number of modules. */
    public int size() {
        return items.size();
    }

    /**
     * Keeps only the modules at {@code indices} (ascending), renumbered from 0, as dropping layers
     * after pruning does; {@code model.layers.3} becomes {@code model.layers.1} when it is the
     * second one kept.
     *
     * @throws IllegalArgumentException when an index is out of range or the indices do not ascend
     */
    public void retain(int... indices) {
        List<M> kept = new ArrayList<>();
        int previous = -1;
        for (int i : indices) {
            if (i <= previous || i >= items.size()) {
                throw new IllegalArgumentException("ModuleList.retain: indices must ascend within [0, " + items.size()
                        + "), got " + java.util.Arrays.toString(indices));
            }
            kept.add(items.get(i));
            previous = i;
        }
        items.clear();
        clearModules();
        for (M m : kept) {
            add(m);
        }
    }

    /** Returns the modules in order (read-only). */
    public List<M> asList() {
        return Collections.unmodifiableList(items);
    }

    @Override
    public Iterator<M> iterator() {
        return asList().iterator();
    }
}
