package dev.transact4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.optim.AdamW;
import dev.transact4j.nn.optim.AdamWOptimizer;
import dev.transact4j.nn.optim.AdamWState;
import dev.transact4j.nn.optim.LrSchedule;
import dev.transact4j.nn.optim.Optimizer;
import dev.transact4j.nn.optim.ParameterGroup;
import dev.transact4j.nn.optim.Sgd;
import dev.transact4j.nn.optim.SgdOptimizer;
import dev.transact4j.nn.optim.SgdState;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Optimisers over module parameters: agreement with the array kernels, training, and exact resume. */
class OptimizerTest {

    private static final int IN = 3;
    private static final int HIDDEN = 17;
    private static final int SAMPLES = 33;

    @TempDir
    Path dir;

    /** Inputs {@code [SAMPLES, IN]} and targets {@code y = x0 - 2 x1 + sin(2 x2)}, {@code [SAMPLES, 1]}, from a seed. */
    private static Tensor[] regressionData(long seed) {
        Rng rng = new Rng(seed);
        Tensor x = Tensor.randn(rng, SAMPLES, IN);
        float[] y = new float[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            y[i] = (float) (x.get(i, 0) - 2 * x.get(i, 1) + Math.sin(2 * x.get(i, 2)));
        }
        return new Tensor[] {x, Tensor.of(y, SAMPLES, 1)};
    }

    private static TinyModels.TwoLayer network(long seed) {
        TinyModels.TwoLayer net = new TinyModels.TwoLayer(IN, HIDDEN, 1);
        Initialization.llama(net, 0.5, seed);
        return net;
    }

    /** Runs forward and backward of the mean squared error and returns the loss. */
    private static float lossAndBackward(TinyModels.TwoLayer net, Tensor[] data) {
        net.zeroGrad();
        Tensor loss = net.forward(data[0]).sub(data[1]).pow(2f).mean();
        loss.backward();
        return loss.item();
    }

    private static float loss(TinyModels.TwoLayer net, Tensor[] data) {
        return net.forward(data[0]).sub(data[1]).pow(2f).mean().item();
    }

    @Test
    void twoLayerNetworkFitsToyRegression() {
        Tensor[] data = regressionData(1);
        TinyModels.TwoLayer net = network(2);
        AdamWOptimizer optimizer = new AdamWOptimizer(ParameterGroup.decayMatricesOnly(net.namedParameters(), 0.01));
        LrSchedule schedule = LrSchedule.cosine(20, 400);

        // predicting the mean of y scores its variance: the bound is 1% of that
        float[] y = data[1].toArray();
        double mean = 0;
        for (float v : y) {
            mean += v / y.length;
        }
        double variance = 0;
        for (float v : y) {
            variance += (v - mean) * (v - mean) / y.length;
        }
        float initial = loss(net, data);
        for (int step = 0; step < 400; step++) {
            lossAndBackward(net, data);
            optimizer.clipGradNorm(1.0);
            optimizer.step(schedule, 3e-2);
        }
        float last = loss(net, data);
        assertTrue(last < 0.01 * variance, "final loss " + last + " not below 1% of the target variance " + variance);
        assertTrue(last < 0.1 * initial, "final loss " + last + " not below 10% of the initial loss " + initial);
        assertEquals(400, optimizer.steps());
    }

    @Test
    void adamwMatchesArrayKernelBitwise() {
        Tensor[] data = regressionData(3);
        TinyModels.TwoLayer net = network(4);
        TinyModels.TwoLayer twin = network(4);
        AdamWOptimizer optimizer = new AdamWOptimizer(ParameterGroup.decayMatricesOnly(net.namedParameters(), 0.1),
                0.8, 0.95, 1e-6);
        AdamW decay = new AdamW(0.8, 0.95, 1e-6, 0.1);
        AdamW noDecay = new AdamW(0.8, 0.95, 1e-6, 0);
        Map<String, Parameter> twinParams = twin.namedParameters();
        Map<String, AdamWState> twinStates = new java.util.HashMap<>();
        for (int step = 0; step < 3; step++) {
            lossAndBackward(net, data);
            lossAndBackward(twin, data);
            optimizer.step(1e-2);
            for (Map.Entry<String, Parameter> e : twinParams.entrySet()) {
                Parameter p = e.getValue();
                AdamWState state = twinStates.computeIfAbsent(e.getKey(), n -> AdamWState.zeros(p.numel()));
                (p.shape().length >= 2 ? decay : noDecay).step(List.of(p.data()), List.of(p.gradData()), state, 1e-2);
            }
        }
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            assertArrayEquals(twinParams.get(e.getKey()).data(), e.getValue().data(), e.getKey());
            assertEquals(3, optimizer.state(e.getKey()).step());
        }
    }

    @Test
    void weightDecaySkipsNormsAndBiases() {
        TinyModels.TwoLayer net = network(5);
        float[] weight = net.fc1.weight().data().clone();
        float[] bias = net.fc1.bias().data().clone();
        java.util.Arrays.fill(bias, 0.25f);
        System.arraycopy(bias, 0, net.fc1.bias().data(), 0, bias.length);
        // zero gradients: Adam's update is 0 / (0 + eps) = 0, so only the decay moves a parameter
        net.forward(Tensor.zeros(1, IN)).mul(0f).sum().backward();
        AdamWOptimizer optimizer = new AdamWOptimizer(ParameterGroup.decayMatricesOnly(net.namedParameters(), 0.5));
        optimizer.step(0.1);
        float factor = (float) (1 - 0.1 * 0.5);
        for (int i = 0; i < weight.length; i++) {
            assertEquals(weight[i] * factor, net.fc1.weight().data()[i], Math.abs(weight[i]) * 1e-6, "weight " + i);
        }
        assertArrayEquals(bias, net.fc1.bias().data());
    }

    @Test
    void sgdMomentumFollowsTorchRule() {
        Parameter p = new Parameter(Tensor.of(new float[] {1f, -2f, 3f}, 3));
        SgdOptimizer optimizer = new SgdOptimizer(List.of(new ParameterGroup(Map.of("p", p), 0)), 0.9, 0, false);
        float[] g1 = {0.5f, 1f, -1f};
        float[] g2 = {-0.25f, 2f, 0f};
        setGradient(p, g1);
        optimizer.step(0.1);
        setGradient(p, g2);
        optimizer.step(0.1);
        // torch: buf = g on the first step, then buf = momentum * buf + g; p -= lr * buf
        float[] expected = new float[3];
        float[] start = {1f, -2f, 3f};
        for (int i = 0; i < 3; i++) {
            float buf1 = g1[i];
            float buf2 = 0.9f * buf1 + g2[i];
            expected[i] = start[i] - 0.1f * buf1 - 0.1f * buf2;
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(expected[i], p.data()[i], 1e-6, "element " + i);
        }

        // and bitwise as the array kernel does it
        float[] q = start.clone();
        SgdState state = SgdState.zerosLike(List.of(q));
        Sgd sgd = new Sgd(0.9, 0, 0, false);
        sgd.step(List.of(q), List.of(g1), state, 0.1);
        sgd.step(List.of(q), List.of(g2), state, 0.1);
        assertArrayEquals(q, p.data());
    }

    /** Gives {@code p} exactly the gradient {@code g}, through backward of {@code sum(p * g)}. */
    private static void setGradient(Parameter p, float[] g) {
        p.zeroGrad();
        p.value().mul(Tensor.of(g, g.length)).sum().backward();
    }

    @Test
    void clipGradNormReturnsNormBeforeClipping() {
        Parameter a = new Parameter(Tensor.zeros(2));
        Parameter b = new Parameter(Tensor.zeros(1));
        Parameter none = new Parameter(Tensor.zeros(4));
        setGradient(a, new float[] {3f, 0f});
        setGradient(b, new float[] {4f});
        double norm = Optimizer.clipGradNorm(List.of(a, b, none), 1.0);
        assertEquals(5.0, norm, 1e-12);
        float scale = (float) (1.0 / (5.0 + 1e-6));
        assertEquals(3f * scale, a.gradData()[0], 1e-7);
        assertEquals(4f * scale, b.gradData()[0], 1e-7);
        assertNull(none.grad());
        assertEquals(1.0, Optimizer.clipGradNorm(List.of(a, b), 2.0), 1e-6);
        assertEquals(4f * scale, b.gradData()[0], 1e-7, "a norm below the maximum leaves gradients alone");
    }

    @Test
    void scheduleGivesLearningRatePerStep() {
        TinyModels.TwoLayer net = network(6);
        Tensor[] data = regressionData(6);
        AdamWOptimizer optimizer = new AdamWOptimizer(List.of(new ParameterGroup(net.namedParameters(), 0)));
        LrSchedule schedule = LrSchedule.linear(2, 6);
        List<Double> rates = new ArrayList<>();
        for (int step = 0; step < 6; step++) {
            lossAndBackward(net, data);
            rates.add(optimizer.step(schedule, 0.4));
        }
        for (int step = 0; step < 6; step++) {
            assertEquals(schedule.lr(0.4, step), rates.get(step), 0.0);
        }
        assertEquals(0.2, rates.get(1), 1e-12);
    }

    @Test
    void parametersWithoutGradientAreSkipped() {
        TinyModels.TwoLayer net = network(7);
        net.fc2.bias().requiresGrad(false);
        float[] frozen = net.fc2.bias().data().clone();
        lossAndBackward(net, regressionData(7));
        AdamWOptimizer optimizer = new AdamWOptimizer(List.of(new ParameterGroup(net.namedParameters(), 0.1)));
        optimizer.step(0.1);
        assertArrayEquals(frozen, net.fc2.bias().data());
        assertNull(optimizer.state("fc2.bias"));
        assertNotNull(optimizer.state("fc2.weight"));
    }

    @Test
    void replacedParameterNeedsStateReset() {
        TinyModels.TwoLayer net = network(8);
        Tensor[] data = regressionData(8);
        AdamWOptimizer optimizer = new AdamWOptimizer(List.of(new ParameterGroup(net.namedParameters(), 0)));
        lossAndBackward(net, data);
        optimizer.step(0.01);

        // prune fc2's input: keep the first 10 hidden units and the matching fc1 rows
        net.fc2.weight().set(net.fc2.weight().value().narrow(1, 0, 10));
        net.fc1.weight().set(net.fc1.weight().value().narrow(0, 0, 10));
        net.fc1.bias().set(net.fc1.bias().value().narrow(0, 0, 10));
        lossAndBackward(net, data);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> optimizer.step(0.01));
        assertTrue(e.getMessage().contains("'fc1.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("resetState"), e.getMessage());
        for (String name : List.of("fc1.weight", "fc1.bias", "fc2.weight")) {
            optimizer.resetState(name);
        }
        optimizer.step(0.01);
        assertEquals(1, optimizer.state("fc1.weight").step());
        assertEquals(2, optimizer.state("fc2.bias").step());
    }

    @Test
    void resumedRunMatchesUninterruptedRun() throws IOException {
        Tensor[] data = regressionData(9);
        LrSchedule schedule = LrSchedule.cosine(2, 12);

        TinyModels.TwoLayer continuous = network(10);
        AdamWOptimizer continuousOptimizer = new AdamWOptimizer(
                ParameterGroup.decayMatricesOnly(continuous.namedParameters(), 0.1));
        for (int step = 0; step < 6; step++) {
            lossAndBackward(continuous, data);
            continuousOptimizer.clipGradNorm(0.5);
            continuousOptimizer.step(schedule, 1e-2);
        }
        Path modelFile = dir.resolve("model.safetensors");
        Path optimizerFile = dir.resolve("optimizer.safetensors");
        StateDicts.save(continuous, modelFile, DType.F32);
        continuousOptimizer.save(optimizerFile);
        for (int step = 0; step < 6; step++) {
            lossAndBackward(continuous, data);
            continuousOptimizer.clipGradNorm(0.5);
            continuousOptimizer.step(schedule, 1e-2);
        }

        // a fresh process: other initial weights, then the checkpoint
        TinyModels.TwoLayer resumed = network(11);
        AdamWOptimizer resumedOptimizer = new AdamWOptimizer(
                ParameterGroup.decayMatricesOnly(resumed.namedParameters(), 0.1));
        StateDicts.loadInto(resumed, modelFile, true);
        resumedOptimizer.load(optimizerFile);
        assertEquals(6, resumedOptimizer.steps());
        for (int step = 0; step < 6; step++) {
            lossAndBackward(resumed, data);
            resumedOptimizer.clipGradNorm(0.5);
            resumedOptimizer.step(schedule, 1e-2);
        }
        for (Map.Entry<String, Parameter> e : continuous.namedParameters().entrySet()) {
            assertArrayEquals(e.getValue().data(), resumed.namedParameters().get(e.getKey()).data(), e.getKey());
        }
    }

    @Test
    void sgdStateResumesExactly() throws IOException {
        Tensor[] data = regressionData(12);
        TinyModels.TwoLayer a = network(13);
        SgdOptimizer sgdA = new SgdOptimizer(List.of(new ParameterGroup(a.namedParameters(), 1e-3)), 0.9, 0.1, false);
        for (int step = 0; step < 3; step++) {
            lossAndBackward(a, data);
            sgdA.step(0.05);
        }
        Path file = dir.resolve("sgd.safetensors");
        sgdA.save(file);
        TinyModels.TwoLayer b = network(14);
        b.loadStateDict(a.stateDict(), true);
        SgdOptimizer sgdB = new SgdOptimizer(List.of(new ParameterGroup(b.namedParameters(), 1e-3)), 0.9, 0.1, false);
        sgdB.load(file);
        for (int step = 0; step < 3; step++) {
            lossAndBackward(a, data);
            sgdA.step(0.05);
            lossAndBackward(b, data);
            sgdB.step(0.05);
        }
        for (Map.Entry<String, Parameter> e : a.namedParameters().entrySet()) {
            assertArrayEquals(e.getValue().data(), b.namedParameters().get(e.getKey()).data(), e.getKey());
        }
    }

    @Test
    void loadRejectsOtherParametersAndTypes() throws IOException {
        Tensor[] data = regressionData(15);
        TinyModels.TwoLayer net = network(16);
        AdamWOptimizer optimizer = new AdamWOptimizer(List.of(new ParameterGroup(net.namedParameters(), 0)));
        lossAndBackward(net, data);
        optimizer.step(0.01);
        Path file = dir.resolve("adamw.safetensors");
        optimizer.save(file);

        TinyModels.LanguageModel other = new TinyModels.LanguageModel(5, 4, 6, 1);
        AdamWOptimizer wrong = new AdamWOptimizer(List.of(new ParameterGroup(other.namedParameters(), 0)));
        IllegalArgumentException names = assertThrows(IllegalArgumentException.class, () -> wrong.load(file));
        for (String expected : List.of("missing: lm_head.weight", "missing: model.norm.weight",
                "unexpected: fc1.weight", "unexpected: fc2.bias")) {
            assertTrue(names.getMessage().contains(expected), "message lacks '" + expected + "':\n" + names.getMessage());
        }

        TinyModels.TwoLayer wider = new TinyModels.TwoLayer(IN, HIDDEN + 1, 1);
        AdamWOptimizer resized = new AdamWOptimizer(List.of(new ParameterGroup(wider.namedParameters(), 0)));
        IllegalArgumentException sizes = assertThrows(IllegalArgumentException.class, () -> resized.load(file));
        assertTrue(sizes.getMessage().contains("size mismatch: fc1.weight has state of 51 elements, parameter 54"),
                sizes.getMessage());
        assertNull(resized.state("fc1.weight"), "a failed load leaves no partial state");

        // an optimiser with state of its own keeps it when a load fails
        lossAndBackward(wider, data);
        resized.step(0.01);
        float[] moment = resized.state("fc1.weight").expAvg(0).clone();
        assertThrows(IllegalArgumentException.class, () -> resized.load(file));
        assertArrayEquals(moment, resized.state("fc1.weight").expAvg(0));
        assertEquals(1, resized.steps());

        // a file whose description fits but whose moments are missing
        Path truncated = dir.resolve("truncated.safetensors");
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (SafeTensorsFile saved = SafeTensorsFile.open(file)) {
            writer.metadata(Optimizer.METADATA_KEY, saved.metadata().get(Optimizer.METADATA_KEY));
            for (String name : net.namedParameters().keySet()) {
                writer.addLongs(name + ".step", saved.readLongs(name + ".step"), new int[] {1});
            }
        }
        writer.write(truncated);
        float[] before = optimizer.state("fc2.weight").expAvgSq(0).clone();
        IllegalArgumentException moments = assertThrows(IllegalArgumentException.class, () -> optimizer.load(truncated));
        assertTrue(moments.getMessage().contains("0 moment pairs"), moments.getMessage());
        assertArrayEquals(before, optimizer.state("fc2.weight").expAvgSq(0));

        SgdOptimizer sgd = new SgdOptimizer(List.of(new ParameterGroup(net.namedParameters(), 0)), 0.9, 0, false);
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> sgd.load(file));
        assertTrue(type.getMessage().contains("contains AdamW state"), type.getMessage());
    }

    @Test
    void duplicateParameterAcrossGroupsRejected() {
        TinyModels.TwoLayer net = network(17);
        Map<String, Parameter> named = net.namedParameters();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AdamWOptimizer(List.of(new ParameterGroup(named, 0), new ParameterGroup(Map.of("x",
                        named.get("fc1.bias")), 0))));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    }
}
