package dev.transact4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GradCheckTest {

    /** out = [x0 * x1, sin(x0)], so dL/dx0 = w0 * x1 + w1 * cos(x0) and dL/dx1 = w0 * x0. */
    private static float[][] product(float[][] in) {
        float[] out = new float[] {in[0][0] * in[1][0], (float) Math.sin(in[0][0])};
        return new float[][] {out};
    }

    @Test
    void correctFloatGradientPasses() {
        GradCheck.Result result = GradCheck.checkFloat("product", GradCheckTest::product,
                (in, up) -> new float[][] {
                    {up[0][0] * in[1][0] + up[0][1] * (float) Math.cos(in[0][0])},
                    {up[0][0] * in[0][0]}},
                new float[][] {{0.7f}, {-1.3f}}, 1);
        assertEquals(2, result.checked());
        assertTrue(result.maxErrorRatio() < 1.0);
    }

    @Test
    void wrongFloatGradientFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.checkFloat("product",
                GradCheckTest::product,
                (in, up) -> new float[][] {
                    {up[0][0] * in[1][0] + up[0][1] * (float) Math.cos(in[0][0])},
                    {1.05f * up[0][0] * in[0][0]}},
                new float[][] {{0.7f}, {-1.3f}}, 1));
        assertTrue(e.getMessage().contains("input 1, element 0"), e.getMessage());
    }

    @Test
    void nullGradientSkipsInput() {
        GradCheck.Result result = GradCheck.checkFloat("product", GradCheckTest::product,
                (in, up) -> new float[][] {null, {up[0][0] * in[0][0]}},
                new float[][] {{0.7f}, {-1.3f}}, 1);
        assertEquals(1, result.checked());
    }

    @Test
    void doubleCheckIsTight() {
        GradCheck.DoubleFunction f = in -> new double[][] {{Math.exp(in[0][0]) * in[0][1]}};
        GradCheck.checkDouble("exp product", f,
                (in, up) -> new double[][] {{up[0][0] * Math.exp(in[0][0]) * in[0][1], up[0][0] * Math.exp(in[0][0])}},
                new double[][] {{0.3, 2.0}}, 2);
        assertThrows(AssertionError.class, () -> GradCheck.checkDouble("exp product", f,
                (in, up) -> new double[][] {{up[0][0] * Math.exp(in[0][0]) * in[0][1] * (1 + 1e-4),
                    up[0][0] * Math.exp(in[0][0])}},
                new double[][] {{0.3, 2.0}}, 2));
    }

    @Test
    void nonFiniteOutputsAreLeftOut() {
        GradCheck.Result result = GradCheck.checkFloat("with -inf",
                in -> new float[][] {{2 * in[0][0], Float.NEGATIVE_INFINITY}},
                (in, up) -> {
                    assertEquals(0f, up[0][1]);
                    return new float[][] {{2 * up[0][0]}};
                },
                new float[][] {{0.5f}}, 3);
        assertEquals(1, result.checked());
    }
}
