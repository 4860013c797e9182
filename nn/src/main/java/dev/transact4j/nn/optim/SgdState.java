package dev.transact4j.nn.optim;

import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * SGD's state: the number of steps taken and, per parameter, the momentum buffer
 * ({@code momentum_buffer} in torch). Torch creates the buffer on the first step by copying the
 * gradient. Here it exists from the start, and step 0 marks it as not yet filled.
 */
public final class SgdState {

    private long step;
    private final float[][] momentumBuffer;

    /**
     * Restores a state from its arrays, which it takes over without copying.
     *
     * @throws IllegalArgumentException when the step is negative
     */
    public SgdState(long step, List<float[]> momentumBuffer) {
        if (step < 0) {
            throw new IllegalArgumentException("SgdState: step must be 0 or more, got " + step);
        }
        this.step = step;
        this.momentumBuffer = momentumBuffer.toArray(new float[0][]);
    }

    /** Returns a fresh state for {@code params}. */
    public static SgdState zerosLike(List<float[]> params) {
        List<float[]> buffers = new ArrayList<>();
        for (float[] p : params) {
            buffers.add(new float[p.length]);
        }
        return new SgdState(0, buffers);
    }

    /** Returns the number of steps taken. */
    public long step() {
        return step;
    }

    void advance() {
        step++;
    }

    /** Returns the number of parameters. */
    public int size() {
        return momentumBuffer.length;
    }

    /** Returns the momentum buffer of parameter {@code i}, live. */
    public float[] momentumBuffer(int i) {
        return momentumBuffer[i];
    }

    /** Adds the state to {@code writer} as {@code <prefix>step} and {@code <prefix><i>.momentum_buffer}. */
    public void addTo(SafeTensorsWriter writer, String prefix) {
        writer.addLongs(prefix + "step", new long[] {step}, new int[] {1});
        for (int i = 0; i < momentumBuffer.length; i++) {
            writer.add(prefix + i + ".momentum_buffer", momentumBuffer[i], new int[] {momentumBuffer[i].length});
        }
    }

    /** Reads a state stored by {@link #addTo} under {@code prefix}. */
    public static SgdState readFrom(SafeTensors source, String prefix) throws IOException {
        long step = AdamWState.readStep(source, prefix, "SgdState");
        List<float[]> buffers = new ArrayList<>();
        for (int i = 0; source.contains(prefix + i + ".momentum_buffer"); i++) {
            buffers.add(source.readFloat32(prefix + i + ".momentum_buffer"));
        }
        return new SgdState(step, buffers);
    }
}
