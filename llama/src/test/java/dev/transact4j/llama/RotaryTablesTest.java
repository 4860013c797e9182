package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.transact4j.tensor.Rng;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.testing.GradCheck;
import org.junit.jupiter.api.Test;

/** Checks that each group of heads rotates with its own cos/sin table, forward and backward. */
class RotaryTablesTest {

    @Test
    void groupedTablesRotateEachGroup() {
        // three groups of two heads, head size 6, 5 steps at positions 3..7
        int groups = 3;
        int positions = 9;
        int hs = 6;
        Rng rng = new Rng(11);
        Tensor[] cos = new Tensor[groups];
        Tensor[] sin = new Tensor[groups];
        for (int g = 0; g < groups; g++) {
            cos[g] = Tensor.randn(rng, positions, hs);
            sin[g] = Tensor.randn(rng, positions, hs);
        }
        Tensor x = Tensor.randn(rng, 2, 2 * groups, 5, hs);
        Tensor grouped = RotaryTables.apply(x, cos, sin, 3);

        // out = x * cos[p] + rotate_half(x) * sin[p], with rotate_half(x) = cat(-x2, x1), table of the head's group
        float[] xs = x.toArray();
        float[] expected = new float[xs.length];
        int half = hs / 2;
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 2 * groups; h++) {
                int g = h / 2;
                for (int t = 0; t < 5; t++) {
                    int row = ((b * 2 * groups + h) * 5 + t) * hs;
                    for (int j = 0; j < hs; j++) {
                        float rotated = j < half ? -xs[row + j + half] : xs[row + j - half];
                        expected[row + j] = (float) ((double) xs[row + j] * cos[g].get(3 + t, j)
                                + (double) rotated * sin[g].get(3 + t, j));
                    }
                }
            }
        }
        assertArrayEquals(expected, grouped.toArray(), 1e-6f, "forward");
        GradCheck.standard().check("grouped rope", in -> RotaryTables.apply(in[0], cos, sin, 3), x);
    }
}
