package dev.transact4j.tensor;

/** Stride arithmetic for views that share storage. */
final class Views {

    private Views() {
    }

    /**
     * Returns strides that present storage laid out by {@code shape} and {@code strides} as
     * {@code target} (same element count), or null when no strides can.
     *
     * <p>The old dims split into chunks, each a run of dims that are contiguous with each other
     * (stride of a dim = stride of the next times its size). A view is possible when every new dim
     * falls inside one chunk: the new sizes are matched against the chunks from the innermost out,
     * and inside a chunk the new strides grow from the chunk's innermost stride.
     */
    static int[] viewStrides(int[] shape, int[] strides, int[] target) {
        int n = Shapes.numel(shape);
        if (n <= 1) {
            return Shapes.contiguousStrides(target);
        }
        int[] out = new int[target.length];
        int t = target.length - 1;
        int chunkBase = strides[shape.length - 1];
        long chunkNumel = 1;
        long viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            chunkNumel *= shape[d];
            boolean chunkEnds = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != chunkNumel * chunkBase);
            if (!chunkEnds) {
                continue;
            }
            // give the new dims that fit in this chunk their strides
            while (t >= 0 && (viewNumel < chunkNumel || target[t] == 1)) {
                out[t] = (int) (viewNumel * chunkBase);
                viewNumel *= target[t];
                t--;
            }
            if (viewNumel != chunkNumel) {
                return null;
            }
            if (d > 0) {
                chunkBase = strides[d - 1];
                chunkNumel = 1;
                viewNumel = 1;
            }
        }
        return t == -1 ? out : null;
    }

    /** Returns {@code values} without the element at {@code index}. */
    static int[] remove(int[] values, int index) {
        int[] out = new int[values.length - 1];
        System.arraycopy(values, 0, out, 0, index);
        System.arraycopy(values, index + 1, out, index, values.length - index - 1);
        return out;
    }

    /** Returns {@code values} with {@code value} inserted at {@code index}. */
    static int[] insert(int[] values, int index, int value) {
        int[] out = new int[values.length + 1];
        System.arraycopy(values, 0, out, 0, index);
        out[index] = value;
        System.arraycopy(values, index, out, index + 1, values.length - index);
        return out;
    }
}
