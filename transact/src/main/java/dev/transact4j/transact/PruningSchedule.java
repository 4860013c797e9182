package dev.transact4j.transact;

import dev.transact4j.llama.LlamaConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * TransAct's multi-shot pruning schedule: over {@code prune_shots} shots, interleaved with training,
 * the attention inner width, the MLP width and the layer count each move towards their targets.
 *
 * <p>Shot {@code s} (counted from 1) of {@code K} moves a size a fraction of the remaining way:
 * <pre>
 * next = current - (current - target) / (K - s + 1)      (integer division)
 * </pre>
 * so the last shot divides by 1 and lands on the target exactly. The original Python uses floor
 * division ({@code //}), and because {@code current >= target} is enforced, the numerator is never
 * negative, so floor and truncation agree. Each shot starts from the size actually reached, so a
 * caller that rounds a size (to whole heads, for example) stays on schedule.
 */
public final class PruningSchedule {

    /** The three sizes the schedule moves: attention inner width, MLP width and layer count. */
    public record Sizes(int attentionWidth, int intermediateSize, int numHiddenLayers) {

        /** Returns the sizes of {@code config}; the attention width is {@code heads * head_dim}. */
        public static Sizes of(LlamaConfig config) {
            return new Sizes(config.attentionWidth(), config.intermediateSize(), config.numHiddenLayers());
        }
    }

    private final int shots;
    private final Sizes target;

    /**
     * Creates a schedule of {@code shots} shots towards {@code target}.
     *
     * @throws IllegalArgumentException when shots is not positive or a target size is not positive
     */
    public PruningSchedule(int shots, Sizes target) {
        if (shots <= 0) {
            throw new IllegalArgumentException("prune_shots is " + shots + " but must be at least 1");
        }
        checkTarget("attention width", target.attentionWidth());
        checkTarget("intermediate_size", target.intermediateSize());
        checkTarget("num_hidden_layers", target.numHiddenLayers());
        this.shots = shots;
        this.target = target;
    }

    private static void checkTarget(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("target " + name + " is " + value
                    + " but must be positive; pruning cannot remove a whole module kind");
        }
    }

    /** Returns {@code prune_shots}, the number of shots. */
    public int shots() {
        return shots;
    }

    /** Returns the sizes reached after the last shot. */
    public Sizes target() {
        return target;
    }

    /**
     * Returns the sizes after shot {@code shot} (1-based), starting from {@code current}.
     *
     * @throws IllegalArgumentException when shot is outside [1, shots] or a current size is below its
     *     target (pruning never grows a module)
     */
    public Sizes next(Sizes current, int shot) {
        return new Sizes(
                nextSize("attention width", current.attentionWidth(), target.attentionWidth(), shots, shot),
                nextSize("intermediate_size", current.intermediateSize(), target.intermediateSize(), shots, shot),
                nextSize("num_hidden_layers", current.numHiddenLayers(), target.numHiddenLayers(), shots, shot));
    }

    /**
     * Returns the sizes after every shot when each shot starts where the previous one ended:
     * element {@code s - 1} contains the sizes after shot {@code s}, and the last element equals the target.
     *
     * @throws IllegalArgumentException when a start size is below its target
     */
    public List<Sizes> plan(Sizes start) {
        List<Sizes> steps = new ArrayList<>();
        Sizes current = start;
        for (int shot = 1; shot <= shots; shot++) {
            current = next(current, shot);
            steps.add(current);
        }
        return Collections.unmodifiableList(steps);
    }

    /**
     * Returns one size after shot {@code shot} of {@code shots}:
     * {@code current - (current - target) / (shots - shot + 1)}.
     *
     * @param name the size's name, used in error messages
     * @throws IllegalArgumentException when shot is outside [1, shots], target is not positive or
     *     target is larger than current
     */
    public static int nextSize(String name, int current, int target, int shots, int shot) {
        if (shot < 1 || shot > shots) {
            throw new IllegalArgumentException("shot " + shot + " is outside [1, " + shots + "]; shots are counted from 1");
        }
        if (target <= 0) {
            throw new IllegalArgumentException("target " + name + " is " + target + " but must be positive");
        }
        if (target > current) {
            throw new IllegalArgumentException("target " + name + " " + target + " is larger than the current " + current
                    + "; pruning only removes. Lower the target or start from a larger model.");
        }
        return current - Math.floorDiv(current - target, shots - shot + 1);
    }
}
