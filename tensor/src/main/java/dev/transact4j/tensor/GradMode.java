package dev.transact4j.tensor;

/**
 * Whether ops on the current thread record the graph that {@link Tensor#backward()} walks.
 *
 * <p>Recording is on by default. {@link #noGrad()} turns it off until the returned scope closes:
 * <pre>{@code
 * try (GradMode.Scope scope = GradMode.noGrad()) {
 *     weight.subInPlace(weight.grad().mul(learningRate));
 * }
 * }</pre>
 * The setting is per thread, and scopes nest.
 */
public final class GradMode {

    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private GradMode() {
    }

    /** Returns whether ops on this thread record their backward. */
    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** Turns recording off on this thread until the returned scope is closed. */
    public static Scope noGrad() {
        Scope scope = new Scope(ENABLED.get());
        ENABLED.set(Boolean.FALSE);
        return scope;
    }

    /** A region without recording; closing it restores the previous setting. */
    public static final class Scope implements AutoCloseable {
        private final boolean previous;

        private Scope(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            ENABLED.set(previous);
        }
    }
}
