package dev.transact4j.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saving optimiser state to a checkpoint and restoring it continues training bit for bit. */
class OptimizerStateTest {

    @TempDir
    Path dir;

    private static List<float[]> randomArrays(SplittableRandom random, int... sizes) {
        List<float[]> out = new ArrayList<>();
        for (int size : sizes) {
            float[] a = new float[size];
            for (int i = 0; i < size; i++) {
                a[i] = (float) random.nextGaussian();
            }
            out.add(a);
        }
        return out;
    }

    private static List<float[]> copy(List<float[]> arrays) {
        List<float[]> out = new ArrayList<>();
        for (float[] a : arrays) {
            out.add(a.clone());
        }
        return out;
    }

    @Test
    void adamwResumesExactly() throws IOException {
        int[] sizes = {17, 33};
        AdamW adamw = new AdamW();
        LrSchedule schedule = LrSchedule.cosine(2, 10);
        List<float[]> continuous = randomArrays(new SplittableRandom(1), sizes);
        List<float[]> resumed = copy(continuous);
        AdamWState state = AdamWState.zerosLike(continuous);
        AdamWState firstHalf = AdamWState.zerosLike(resumed);

        // Ten steps in one go, and five steps, a save and a restore, then five more.
        SplittableRandom grads = new SplittableRandom(2);
        List<List<float[]>> gradSteps = new ArrayList<>();
        for (int step = 0; step < 10; step++) {
            gradSteps.add(randomArrays(grads, sizes));
        }
        for (int step = 0; step < 10; step++) {
            adamw.step(continuous, copy(gradSteps.get(step)), state, schedule.lr(1e-2, step));
        }
        for (int step = 0; step < 5; step++) {
            adamw.step(resumed, copy(gradSteps.get(step)), firstHalf, schedule.lr(1e-2, step));
        }
        Path checkpoint = dir.resolve("optimizer.safetensors");
        SafeTensorsWriter writer = new SafeTensorsWriter();
        firstHalf.addTo(writer, "optimizer.");
        writer.write(checkpoint);

        AdamWState restored;
        try (SafeTensorsFile file = SafeTensorsFile.open(checkpoint)) {
            restored = AdamWState.readFrom(file, "optimizer.");
        }
        assertEquals(5, restored.step());
        assertEquals(2, restored.size());
        for (int step = 5; step < 10; step++) {
            adamw.step(resumed, copy(gradSteps.get(step)), restored, schedule.lr(1e-2, step));
        }
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(continuous.get(i), resumed.get(i), "param " + i);
            assertArrayEquals(state.expAvg(i), restored.expAvg(i), "exp_avg " + i);
            assertArrayEquals(state.expAvgSq(i), restored.expAvgSq(i), "exp_avg_sq " + i);
        }
    }

    @Test
    void sgdResumesExactly() throws IOException {
        Sgd sgd = new Sgd(0.9, 0, 0.01, true);
        List<float[]> continuous = randomArrays(new SplittableRandom(3), 15);
        List<float[]> resumed = copy(continuous);
        SgdState state = SgdState.zerosLike(continuous);
        SgdState firstHalf = SgdState.zerosLike(resumed);
        List<List<float[]>> gradSteps = new ArrayList<>();
        SplittableRandom grads = new SplittableRandom(4);
        for (int step = 0; step < 6; step++) {
            gradSteps.add(randomArrays(grads, 15));
        }
        for (int step = 0; step < 6; step++) {
            sgd.step(continuous, gradSteps.get(step), state, 0.1);
        }
        for (int step = 0; step < 3; step++) {
            sgd.step(resumed, gradSteps.get(step), firstHalf, 0.1);
        }
        Path checkpoint = dir.resolve("sgd.safetensors");
        SafeTensorsWriter writer = new SafeTensorsWriter();
        firstHalf.addTo(writer, "sgd.");
        writer.write(checkpoint);
        SgdState restored;
        try (SafeTensorsFile file = SafeTensorsFile.open(checkpoint)) {
            restored = SgdState.readFrom(file, "sgd.");
        }
        for (int step = 3; step < 6; step++) {
            sgd.step(resumed, gradSteps.get(step), restored, 0.1);
        }
        assertArrayEquals(continuous.get(0), resumed.get(0));
        assertArrayEquals(state.momentumBuffer(0), restored.momentumBuffer(0));
    }

    @Test
    void stepIndependentOfThreadCount() {
        // 100003 elements span several parallel chunks.
        List<float[]> start = randomArrays(new SplittableRandom(5), 100_003, 7);
        List<float[]> grads = randomArrays(new SplittableRandom(6), 100_003, 7);
        int threads = Parallel.threads();
        try {
            List<float[]> one = copy(start);
            Parallel.setThreads(1);
            AdamWState oneState = AdamWState.zerosLike(one);
            new AdamW().step(one, grads, oneState, 1e-3);
            new Sgd(0.9, 0, 0, false).step(one, grads, SgdState.zerosLike(one), 1e-2);

            List<float[]> three = copy(start);
            Parallel.setThreads(3);
            AdamWState threeState = AdamWState.zerosLike(three);
            new AdamW().step(three, grads, threeState, 1e-3);
            new Sgd(0.9, 0, 0, false).step(three, grads, SgdState.zerosLike(three), 1e-2);

            for (int i = 0; i < start.size(); i++) {
                assertArrayEquals(one.get(i), three.get(i), "param " + i);
                assertArrayEquals(oneState.expAvgSq(i), threeState.expAvgSq(i), "exp_avg_sq " + i);
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    @Test
    void readFromRejectsMissingPrefix() throws IOException {
        Path checkpoint = dir.resolve("model.safetensors");
        new SafeTensorsWriter().add("w", new float[1], new int[] {1}).write(checkpoint);
        try (SafeTensorsFile file = SafeTensorsFile.open(checkpoint)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AdamWState.readFrom(file, "optimizer."));
            assertTrue(e.getMessage().contains("no tensor 'optimizer.step'"), e.getMessage());
        }
    }

    @Test
    void stepRejectsMismatchedState() {
        AdamW adamw = new AdamW();
        AdamWState state = AdamWState.zeros(4);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> adamw.step(List.of(new float[4], new float[2]), List.of(new float[4], new float[2]), state, 1e-3));
        assertTrue(count.getMessage().contains("2 parameters, 2 gradients and a state for 1 parameters"), count.getMessage());

        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> adamw.step(List.of(new float[5]), List.of(new float[5]), state, 1e-3));
        assertTrue(length.getMessage().contains("parameter 0 has 5 elements but its state has 4"), length.getMessage());

        IllegalArgumentException grad = assertThrows(IllegalArgumentException.class,
                () -> adamw.step(List.of(new float[4]), List.of(new float[3]), state, 1e-3));
        assertTrue(grad.getMessage().contains("parameter 0 has 4 elements but its gradient has 3"), grad.getMessage());
        assertEquals(0, state.step(), "a rejected step does not count");
    }

    @Test
    void constructorsRejectTorchInvalidValues() {
        assertThrows(IllegalArgumentException.class, () -> new AdamW(1.0, 0.999, 1e-8, 0.01));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 0.999, -1, 0.01));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 0.999, 1e-8, -0.1));
        IllegalArgumentException nesterov = assertThrows(IllegalArgumentException.class, () -> new Sgd(0.9, 0.1, 0, true));
        assertTrue(nesterov.getMessage().contains("Nesterov momentum requires momentum > 0 and dampening 0"),
                nesterov.getMessage());
    }
}
