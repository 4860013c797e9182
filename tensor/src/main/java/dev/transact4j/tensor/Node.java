package dev.transact4j.tensor;

/**
 * One recorded op in the autograd graph: its inputs, the tensors its backward needs, and the
 * backward function itself.
 *
 * <p>After a backward pass has run the node (without {@code retainGraph}) it releases its saved
 * tensors and inputs, so their memory can be reclaimed, and a second pass through it fails.
 */
public final class Node {

    /** Returns the gradient of each input (null where not needed) given the gradient of the output. */
    @FunctionalInterface
    interface Backward {
        Tensor[] apply(Tensor grad, Node node);
    }

    private final String op;
    private final Backward backward;
    private final int[] outputShape;
    private Tensor[] inputs;
    private Tensor[] saved;

    Node(String op, Backward backward, int[] outputShape, Tensor[] inputs, Tensor[] saved) {
        this.op = op;
        this.backward = backward;
        this.outputShape = outputShape;
        this.inputs = inputs;
        this.saved = saved;
    }

    /** Returns the name of the op that made this node, such as {@code "mul"}. */
    public String op() {
        return op;
    }

    int[] outputShape() {
        return outputShape;
    }

    Tensor[] inputs() {
        return inputs;
    }

    Tensor input(int i) {
        return inputs[i];
    }

    Tensor saved(int i) {
        return saved[i];
    }

    /** Returns whether input {@code i} needs a gradient. */
    boolean needsGrad(int i) {
        return inputs[i] != null && inputs[i].requiresGrad;
    }

    boolean isReleased() {
        return inputs == null;
    }

    Tensor[] run(Tensor grad) {
        if (backward == null) {
            throw new IllegalStateException("backward: op '" + op + "' has no backward; compute it inside "
                    + "GradMode.noGrad() or detach() its inputs");
        }
        return backward.apply(grad, this);
    }

    void release() {
        inputs = null;
        saved = null;
    }
}
