package dev.transact4j.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Formats a tensor the way PyTorch prints one: nested brackets, four decimals, values right-aligned
 * to one width, and beyond {@link #SUMMARY_THRESHOLD} elements only the first and last
 * {@link #EDGE_ITEMS} entries of each dim with {@code ...} between. The shape follows the values.
 */
final class TensorFormat {

    static final int SUMMARY_THRESHOLD = 1000;
    static final int EDGE_ITEMS = 3;
    private static final String PREFIX = "tensor(";

    private TensorFormat() {
    }

    static String format(Tensor t) {
        boolean summarise = t.numel() > SUMMARY_THRESHOLD;
        int[] coord = new int[t.dim()];

        // one width for every printed value
        List<String> printed = new ArrayList<>();
        collect(t, 0, coord, summarise, printed);
        int width = 0;
        for (String s : printed) {
            width = Math.max(width, s.length());
        }

        StringBuilder out = new StringBuilder(PREFIX);
        if (t.dim() == 0) {
            out.append(value(t.get()));
        } else {
            append(t, 0, coord, summarise, width, out);
        }
        out.append(", shape=").append(Shapes.str(t.shape));
        if (t.requiresGrad) {
            out.append(", requiresGrad=true");
        }
        return out.append(')').toString();
    }

    private static void collect(Tensor t, int d, int[] coord, boolean summarise, List<String> printed) {
        if (d == t.dim()) {
            printed.add(value(t.get(coord)));
            return;
        }
        for (int i : indices(t.shape[d], summarise)) {
            if (i >= 0) {
                coord[d] = i;
                collect(t, d + 1, coord, summarise, printed);
            }
        }
    }

    private static void append(Tensor t, int d, int[] coord, boolean summarise, int width, StringBuilder out) {
        out.append('[');
        boolean first = true;
        int indent = PREFIX.length() + d + 1;
        for (int i : indices(t.shape[d], summarise)) {
            if (!first) {
                out.append(',');
                if (d == t.dim() - 1) {
                    out.append(' ');
                } else {
                    // a blank line between blocks of rank 3 and up, as PyTorch
                    out.append("\n".repeat(t.dim() - d - 1)).append(" ".repeat(indent));
                }
            }
            first = false;
            if (i < 0) {
                out.append("...");
                continue;
            }
            coord[d] = i;
            if (d == t.dim() - 1) {
                String s = value(t.get(coord));
                out.append(" ".repeat(width - s.length())).append(s);
            } else {
                append(t, d + 1, coord, summarise, width, out);
            }
        }
        out.append(']');
    }

    /** Returns the indices of a dim to print, with -1 where {@code ...} stands. */
    private static int[] indices(int size, boolean summarise) {
        if (!summarise || size <= 2 * EDGE_ITEMS) {
            int[] all = new int[size];
            for (int i = 0; i < size; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] edges = new int[2 * EDGE_ITEMS + 1];
        for (int i = 0; i < EDGE_ITEMS; i++) {
            edges[i] = i;
            edges[EDGE_ITEMS + 1 + i] = size - EDGE_ITEMS + i;
        }
        edges[EDGE_ITEMS] = -1;
        return edges;
    }

    private static String value(float v) {
        if (Float.isNaN(v)) {
            return "nan";
        }
        if (Float.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
