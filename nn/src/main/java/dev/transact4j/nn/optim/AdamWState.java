package dev.transact4j.nn.optim;

import dev.transact4j.nn.safetensors.SafeTensors;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW's state: the number of steps taken and, per parameter, the first and second moment
 * estimates ({@code exp_avg} and {@code exp_avg_sq} in torch), as plain arrays that a checkpoint
 * stores and restores exactly.
 */
public final class AdamWState {

    private long step;
    private final float[][] expAvg;
    private final float[][] expAvgSq;

    /**
     * Restores a state from its arrays, which it takes over without copying.
     *
     * @throws IllegalArgumentException when the step is negative, the lists differ in length, or
     *     a parameter's two moments differ in length
     */
    public AdamWState(long step, List<float[]> expAvg, List<float[]> expAvgSq) {
        if (step < 0) {
            throw new IllegalArgumentException("AdamWState: step must be 0 or more, got " + step);
        }
        if (expAvg.size() != expAvgSq.size()) {
            throw new IllegalArgumentException("AdamWState: " + expAvg.size() + " exp_avg arrays but "
                    + expAvgSq.size() + " exp_avg_sq arrays");
        }
        for (int i = 0; i < expAvg.size(); i++) {
            if (expAvg.get(i).length != expAvgSq.get(i).length) {
                throw new IllegalArgumentException("AdamWState: parameter " + i + " has exp_avg of length "
                        + expAvg.get(i).length + " but exp_avg_sq of length " + expAvgSq.get(i).length);
            }
        }
        this.step = step;
        this.expAvg = expAvg.toArray(new float[0][]);
        this.expAvgSq = expAvgSq.toArray(new float[0][]);
    }

    /** Returns a fresh state, step 0 and zero moments, for parameters of the given sizes. */
    public static AdamWState zeros(int... sizes) {
        List<float[]> m = new ArrayList<>();
        List<float[]> v = new ArrayList<>();
        for (int size : sizes) {
            m.add(new float[size]);
            v.add(new float[size]);
        }
        return new AdamWState(0, m, v);
    }

    /** Returns a fresh state for {@code params}. */
    public static AdamWState zerosLike(List<float[]> params) {
        return zeros(params.stream().mapToInt(p -> p.length).toArray());
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
        return expAvg.length;
    }

    /** Returns the first moment of parameter {@code i}, live: changes show up in the next step. */
    public float[] expAvg(int i) {
        return expAvg[i];
    }

    /** Returns the second moment of parameter {@code i}, live. */
    public float[] expAvgSq(int i) {
        return expAvgSq[i];
    }

    /**
     * Adds the state to {@code writer} as {@code <prefix>step} (I64, one element) and
     * {@code <prefix><i>.exp_avg}, {@code <prefix><i>.exp_avg_sq} (F32), so a write stores it exactly.
     */
    public void addTo(SafeTensorsWriter writer, String prefix) {
        writer.addLongs(prefix + "step", new long[] {step}, new int[] {1});
        for (int i = 0; i < expAvg.length; i++) {
            writer.add(prefix + i + ".exp_avg", expAvg[i], new int[] {expAvg[i].length});
            writer.add(prefix + i + ".exp_avg_sq", expAvgSq[i], new int[] {expAvgSq[i].length});
        }
    }

    /**
     * Reads a state stored by {@link #addTo} under {@code prefix}.
     *
     * @throws IllegalArgumentException when {@code <prefix>step} is missing
     */
    public static AdamWState readFrom(SafeTensors source, String prefix) throws IOException {
        long step = readStep(source, prefix, "AdamWState");
        List<float[]> m = new ArrayList<>();
        List<float[]> v = new ArrayList<>();
        for (int i = 0; source.contains(prefix + i + ".exp_avg"); i++) {
            m.add(source.readFloat32(prefix + i + ".exp_avg"));
            v.add(source.readFloat32(prefix + i + ".exp_avg_sq"));
        }
        return new AdamWState(step, m, v);
    }

    static long readStep(SafeTensors source, String prefix, String what) throws IOException {
        if (!source.contains(prefix + "step")) {
            throw new IllegalArgumentException(what + ": no tensor '" + prefix + "step' in the checkpoint; "
                    + "check the prefix the state was saved under");
        }
        long[] step = source.readLongs(prefix + "step");
        if (step.length != 1) {
            throw new IllegalArgumentException(what + ": tensor '" + prefix + "step' must have one element, found "
                    + step.length);
        }
        return step[0];
    }
}
