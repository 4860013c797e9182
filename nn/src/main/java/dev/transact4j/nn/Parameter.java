package dev.transact4j.nn;

import dev.transact4j.tensor.Tensor;
import java.util.Arrays;

/**
 * A trainable tensor of a {@link Module}: a leaf {@link Tensor} that requires grad and whose
 * value can be replaced as a whole, for example by a smaller tensor after pruning.
 *
 * <p>The value is always a dense, row-major tensor whose storage array contains exactly its
 * elements from index 0, so optimisers update {@code value().data()} in place. A dense tensor
 * passed in is used as is, sharing its storage with the caller, as {@code torch.nn.Parameter}
 * does; any other view is copied. A parameter has no name of its own: its name is its path in the module tree
 * ({@link Module#namedParameters()}).
 */
public final class Parameter {

    private Tensor value;
    private boolean requiresGrad;

    /** Creates a parameter that requires grad, with {@code initial} as its value (copied unless dense). */
    public Parameter(Tensor initial) {
        this(initial, true);
    }

    /** Creates a parameter; a frozen one ({@code requiresGrad == false}) gets no gradient and no optimiser update. */
    public Parameter(Tensor initial, boolean requiresGrad) {
        this.requiresGrad = requiresGrad;
        this.value = leaf(initial);
    }

    /** Returns the current value, the leaf tensor that forward passes read. */
    public Tensor value() {
        return value;
    }

    /**
     * Replaces the value, of any shape, and drops the gradient. Optimiser state kept for the old
     * value no longer fits and must be reset.
     */
    public void set(Tensor newValue) {
        value = leaf(newValue);
    }

    /** Returns the elements of the value, live: writes change the parameter. */
    public float[] data() {
        return value.data();
    }

    /** Returns the shape of the value. */
    public int[] shape() {
        return value.shape();
    }

    /** Returns the number of elements. */
    public int numel() {
        return value.numel();
    }

    /** Returns the gradient accumulated by backward passes, or null when none reached this parameter. */
    public Tensor grad() {
        return value.grad();
    }

    /**
     * Returns the gradient's elements, live, or null when there is no gradient.
     *
     * @throws IllegalStateException when the gradient is not a dense tensor of the value's shape
     */
    public float[] gradData() {
        Tensor g = value.grad();
        if (g == null) {
            return null;
        }
        if (!Arrays.equals(g.shape(), value.shape()) || !isDense(g)) {
            throw new IllegalStateException("Parameter: the gradient of shape " + Arrays.toString(g.shape())
                    + " is not a dense tensor of the parameter's shape " + Arrays.toString(value.shape()));
        }
        return g.data();
    }

    /** Drops the gradient, so the next backward pass starts from zero. */
    public void zeroGrad() {
        value.zeroGrad();
    }

    /** Returns whether backward passes compute a gradient for this parameter. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Freezes ({@code false}) or unfreezes the parameter. */
    public void requiresGrad(boolean value) {
        requiresGrad = value;
        this.value.requiresGrad(value);
    }

    private Tensor leaf(Tensor t) {
        Tensor dense = isDense(t) ? t.detach() : Tensor.of(t.toArray(), t.shape());
        return dense.requiresGrad(requiresGrad);
    }

    private static boolean isDense(Tensor t) {
        return t.isContiguous() && t.offset() == 0 && t.data().length == t.numel();
    }

    @Override
    public String toString() {
        return "Parameter" + Arrays.toString(value.shape()) + (requiresGrad ? "" : " (frozen)");
    }
}
