package dev.transact4j.tensor;

import java.util.Arrays;

/**
 * A float32 tensor: a view of shape, strides and offset over a flat {@code float[]} storage.
 *
 * <p>Views ({@link #view}, {@link #transpose}, {@link #permute}, {@link #narrow}, {@link #select},
 * {@link #unsqueeze}, {@link #squeeze}, {@link #expand}) share the storage and copy nothing;
 * {@link #contiguous()} copies only when the layout is not already row-major and dense. Ops return
 * new contiguous tensors, except the {@code ...InPlace} variants, which write into this tensor.
 * Dims may be negative, counted from the back as in PyTorch. Binary ops broadcast their operands
 * with the NumPy rule. Every shape mismatch throws {@link IllegalArgumentException} naming the op
 * and the shapes.
 *
 * <p>The kernels live by concept in {@link Elementwise}, {@link Reductions}, {@link Softmax},
 * {@link Indexing} and {@link Matmul}, and this class contains the layout and the view logic. Each op
 * hands its result to {@link Derivatives}, which records the backward rule when an input
 * {@linkplain #requiresGrad() requires grad} (see {@link #backward()}).
 */
public final class Tensor {

    final float[] data;
    final int[] shape;
    final int[] strides;
    final int offset;

    // reverse-mode autograd: whether gradients flow to this tensor, the gradient a backward pass
    // accumulated into it (leaves only), and the op that computed it (null for a leaf)
    boolean requiresGrad;
    Tensor grad;
    Node gradFn;

    Tensor(float[] data, int[] shape, int[] strides, int offset) {
        this.data = data;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ---------------------------------------------------------------- creation

    /** Wraps {@code data} (row-major, not copied) as a tensor of {@code shape}; writes show through. */
    public static Tensor wrap(float[] data, int... shape) {
        int[] s = shape.clone();
        int n = Shapes.numel(s);
        if (n != data.length) {
            throw new IllegalArgumentException("Tensor.wrap: shape " + Shapes.str(s) + " needs " + n
                    + " values, got " + data.length);
        }
        return new Tensor(data, s, Shapes.contiguousStrides(s), 0);
    }

    /** Returns a tensor of {@code shape} holding a copy of {@code data} (row-major). */
    public static Tensor of(float[] data, int... shape) {
        int[] s = shape.clone();
        int n = Shapes.numel(s);
        if (n != data.length) {
            throw new IllegalArgumentException("Tensor.of: shape " + Shapes.str(s) + " needs " + n
                    + " values, got " + data.length);
        }
        return new Tensor(data.clone(), s, Shapes.contiguousStrides(s), 0);
    }

    /** Returns a 2-D tensor holding a copy of {@code rows}, which must all have the same length. */
    public static Tensor of(float[][] rows) {
        int columns = rows.length == 0 ? 0 : rows[0].length;
        float[] data = new float[rows.length * columns];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != columns) {
                throw new IllegalArgumentException("Tensor.of: row " + r + " has " + rows[r].length
                        + " values, row 0 has " + columns);
            }
            System.arraycopy(rows[r], 0, data, r * columns, columns);
        }
        return wrap(data, rows.length, columns);
    }

    /** Returns a 0-d tensor holding {@code value}. */
    public static Tensor scalar(float value) {
        return new Tensor(new float[] {value}, new int[0], new int[0], 0);
    }

    /** Returns a tensor of zeros. */
    public static Tensor zeros(int... shape) {
        int[] s = shape.clone();
        return new Tensor(new float[Shapes.numel(s)], s, Shapes.contiguousStrides(s), 0);
    }

    /** Returns a tensor of ones. */
    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    /** Returns a tensor with every element {@code value}. */
    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        Arrays.fill(t.data, value);
        return t;
    }

    /** Returns a new contiguous tensor of zeros with the shape of {@code like}. */
    public static Tensor zerosLike(Tensor like) {
        return zeros(like.shape);
    }

    /** Returns the 1-D tensor {@code [0, 1, ..., n - 1]}. */
    public static Tensor arange(int n) {
        return arange(0f, n, 1f);
    }

    /**
     * Returns the 1-D tensor {@code start, start + step, ...} of the values below {@code end} (above
     * it for a negative step), each computed as {@code start + i * step}.
     */
    public static Tensor arange(float start, float end, float step) {
        if (step == 0f || Float.isNaN(step) || !Float.isFinite(start) || !Float.isFinite(end)) {
            throw new IllegalArgumentException("arange: invalid range start=" + start + ", end=" + end + ", step=" + step
                    + "; start and end must be finite and step non-zero");
        }
        double count = Math.ceil(((double) end - start) / step);
        int n = (int) Math.max(0, count);
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = start + i * step;
        }
        return wrap(data, n);
    }

    /** Returns a tensor of standard normal samples drawn from {@code rng}, in row-major order. */
    public static Tensor randn(Rng rng, int... shape) {
        Tensor t = zeros(shape);
        for (int i = 0; i < t.data.length; i++) {
            t.data[i] = (float) rng.nextGaussian();
        }
        return t;
    }

    /** Returns a tensor of samples uniform in {@code [low, high)} drawn from {@code rng}, in row-major order. */
    public static Tensor uniform(Rng rng, float low, float high, int... shape) {
        if (!(low <= high)) {
            throw new IllegalArgumentException("uniform: low " + low + " must not exceed high " + high);
        }
        Tensor t = zeros(shape);
        for (int i = 0; i < t.data.length; i++) {
            t.data[i] = low + (high - low) * rng.nextFloat();
        }
        return t;
    }

    // ---------------------------------------------------------------- layout

    /** Returns a copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Returns a copy of the strides, in elements. */
    public int[] strides() {
        return strides.clone();
    }

    /** Returns the index of the first element in {@link #data()}. */
    public int offset() {
        return offset;
    }

    /** Returns the storage itself, shared with every view of it; index it with the strides and offset. */
    public float[] data() {
        return data;
    }

    /** Returns the rank (number of dims). */
    public int dim() {
        return shape.length;
    }

    /** Returns the size of {@code dim}. */
    public int size(int dim) {
        return shape[Shapes.dim("size", dim, shape.length)];
    }

    /** Returns the number of elements. */
    public int numel() {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    /** Returns whether the elements are laid out row-major and dense from the offset. */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** Returns the element at {@code index}, one coordinate per dim (negative counts from the back). */
    public float get(int... index) {
        return data[elementOffset("get", index)];
    }

    /** Sets the element at {@code index} to {@code value}. */
    public void set(float value, int... index) {
        data[elementOffset("set", index)] = value;
    }

    /** Returns the value of a one-element tensor. */
    public float item() {
        if (numel() != 1) {
            throw new IllegalArgumentException("item: tensor of shape " + Shapes.str(shape)
                    + " has " + numel() + " elements, expected exactly 1");
        }
        return data[offset];
    }

    /** Returns the elements in row-major order as a new array. */
    public float[] toArray() {
        return isContiguous() ? Arrays.copyOfRange(data, offset, offset + numel()) : copyRaw().data;
    }

    private int elementOffset(String op, int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(op + ": " + index.length + " coordinates for a tensor of shape "
                    + Shapes.str(shape));
        }
        int at = offset;
        for (int d = 0; d < shape.length; d++) {
            int i = index[d] < 0 ? index[d] + shape[d] : index[d];
            if (i < 0 || i >= shape[d]) {
                throw new IllegalArgumentException(op + ": index " + Arrays.toString(index)
                        + " is out of bounds for shape " + Shapes.str(shape));
            }
            at += i * strides[d];
        }
        return at;
    }

    // ---------------------------------------------------------------- views

    /**
     * Returns a view with {@code newShape} (one size may be -1, inferred) over the same storage.
     *
     * @throws IllegalArgumentException when the element counts differ, or when the strides of this
     *     view cannot express the new shape (call {@link #contiguous()} first, or use {@link #reshape})
     */
    public Tensor view(int... newShape) {
        int[] target = inferShape("view", newShape);
        int[] newStrides = Views.viewStrides(shape, strides, target);
        if (newStrides == null) {
            throw new IllegalArgumentException("view: shape " + Shapes.str(target) + " is not compatible with a tensor of shape "
                    + Shapes.str(shape) + " and strides " + Shapes.str(strides)
                    + "; call contiguous() first, or use reshape(), which copies when it must");
        }
        return Derivatives.reshaped("view", this, new Tensor(data, target, newStrides, offset));
    }

    /** Returns {@link #view} when the strides allow it, otherwise a contiguous copy of the new shape. */
    public Tensor reshape(int... newShape) {
        int[] target = inferShape("reshape", newShape);
        int[] newStrides = Views.viewStrides(shape, strides, target);
        if (newStrides != null) {
            return Derivatives.reshaped("reshape", this, new Tensor(data, target, newStrides, offset));
        }
        return contiguous().view(target);
    }

    /** Returns a 1-D view (or copy, as {@link #reshape}) of all elements. */
    public Tensor flatten() {
        return reshape(-1);
    }

    private int[] inferShape(String op, int[] newShape) {
        int[] target = newShape.clone();
        int inferred = -1;
        long known = 1;
        for (int d = 0; d < target.length; d++) {
            if (target[d] == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException(op + ": shape " + Shapes.str(newShape) + " has more than one -1");
                }
                inferred = d;
            } else if (target[d] < 0) {
                throw new IllegalArgumentException(op + ": shape " + Shapes.str(newShape) + " has a negative size");
            } else {
                known *= target[d];
            }
        }
        int n = numel();
        if (inferred >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + Shapes.str(newShape) + " is invalid for a tensor of shape "
                        + Shapes.str(shape) + " (" + n + " elements)");
            }
            target[inferred] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + Shapes.str(newShape) + " is invalid for a tensor of shape "
                    + Shapes.str(shape) + " (" + n + " elements)");
        }
        return target;
    }

    /** Returns a view with dims {@code dim0} and {@code dim1} swapped. */
    public Tensor transpose(int dim0, int dim1) {
        int a = Shapes.dim("transpose", dim0, shape.length);
        int b = Shapes.dim("transpose", dim1, shape.length);
        int[] order = new int[shape.length];
        for (int d = 0; d < order.length; d++) {
            order[d] = d;
        }
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    /** Returns the transpose of a 2-D tensor (a view); rank 0 and 1 come back unchanged. */
    public Tensor t() {
        if (shape.length > 2) {
            throw new IllegalArgumentException("t: expects a tensor of rank 2 or less, got shape " + Shapes.str(shape)
                    + "; use transpose(dim0, dim1)");
        }
        return shape.length < 2 ? this : transpose(0, 1);
    }

    /** Returns a view whose dim {@code d} is dim {@code order[d]} of this tensor. */
    public Tensor permute(int... order) {
        if (order.length != shape.length) {
            throw new IllegalArgumentException("permute: order " + Arrays.toString(order) + " does not match rank "
                    + shape.length + " of shape " + Shapes.str(shape));
        }
        Shapes.dimMask("permute", order, shape.length);
        int[] s = new int[order.length];
        int[] st = new int[order.length];
        for (int d = 0; d < order.length; d++) {
            int src = Shapes.dim("permute", order[d], shape.length);
            s[d] = shape[src];
            st[d] = strides[src];
        }
        return Derivatives.permute(this, order, new Tensor(data, s, st, offset));
    }

    /** Returns the view of elements {@code [start, start + length)} along {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shapes.dim("narrow", dim, shape.length);
        if (start < 0 || length < 0 || (long) start + length > shape[d]) {
            throw new IllegalArgumentException("narrow: range [" + start + ", " + ((long) start + length) + ") is out of bounds for dim "
                    + dim + " of size " + shape[d] + " in shape " + Shapes.str(shape));
        }
        int[] s = shape.clone();
        s[d] = length;
        return Derivatives.narrow(this, d, start, length,
                new Tensor(data, s, strides, offset + (length == 0 ? 0 : start * strides[d])));
    }

    /** Returns the view of elements {@code [start, end)} along {@code dim}; negative bounds count from the back. */
    public Tensor slice(int dim, int start, int end) {
        int d = Shapes.dim("slice", dim, shape.length);
        int lo = start < 0 ? start + shape[d] : start;
        int hi = end < 0 ? end + shape[d] : end;
        if (lo < 0 || hi > shape[d] || lo > hi) {
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") is out of bounds for dim " + dim
                    + " of size " + shape[d] + " in shape " + Shapes.str(shape));
        }
        return narrow(d, lo, hi - lo);
    }

    /** Returns the view at {@code index} along {@code dim}, with that dim removed. */
    public Tensor select(int dim, int index) {
        int d = Shapes.dim("select", dim, shape.length);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) {
            throw new IllegalArgumentException("select: index " + index + " is out of bounds for dim " + dim
                    + " of size " + shape[d] + " in shape " + Shapes.str(shape));
        }
        return Derivatives.select(this, d, i,
                new Tensor(data, Views.remove(shape, d), Views.remove(strides, d), offset + i * strides[d]));
    }

    /** Returns a view with a new dim of size 1 inserted at {@code dim} (from {@code -rank-1} to {@code rank}). */
    public Tensor unsqueeze(int dim) {
        int d = Shapes.dim("unsqueeze", dim, shape.length + 1);
        int stride = d < shape.length ? shape[d] * strides[d] : 1;
        return Derivatives.reshaped("unsqueeze", this,
                new Tensor(data, Views.insert(shape, d, 1), Views.insert(strides, d, stride), offset));
    }

    /** Returns a view without the dims of size 1. */
    public Tensor squeeze() {
        int[] s = new int[shape.length];
        int[] st = new int[shape.length];
        int m = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] != 1) {
                s[m] = shape[d];
                st[m++] = strides[d];
            }
        }
        return Derivatives.reshaped("squeeze", this, new Tensor(data, Arrays.copyOf(s, m), Arrays.copyOf(st, m), offset));
    }

    /** Returns a view without {@code dim} if its size is 1, otherwise this tensor, as in PyTorch. */
    public Tensor squeeze(int dim) {
        int d = Shapes.dim("squeeze", dim, shape.length);
        if (shape[d] != 1) {
            return this;
        }
        return Derivatives.reshaped("squeeze", this, new Tensor(data, Views.remove(shape, d), Views.remove(strides, d), offset));
    }

    /**
     * Returns a view broadcast to {@code sizes} without copying: dims of size 1 repeat (stride 0)
     * and new leading dims may be added; -1 keeps a size.
     */
    public Tensor expand(int... sizes) {
        if (sizes.length < shape.length) {
            throw new IllegalArgumentException("expand: shape " + Shapes.str(shape) + " cannot be expanded to "
                    + Shapes.str(sizes) + ", which has fewer dims");
        }
        int lead = sizes.length - shape.length;
        int[] s = new int[sizes.length];
        int[] st = new int[sizes.length];
        for (int d = 0; d < sizes.length; d++) {
            int own = d < lead ? 1 : shape[d - lead];
            int target = sizes[d] == -1 && d >= lead ? own : sizes[d];
            if (target < 0 || (own != target && own != 1)) {
                throw new IllegalArgumentException("expand: shape " + Shapes.str(shape) + " cannot be expanded to "
                        + Shapes.str(sizes));
            }
            s[d] = target;
            st[d] = d < lead || (own == 1 && target != 1) ? 0 : strides[d - lead];
        }
        if (Shapes.same(s, shape)) {
            return this;
        }
        return Derivatives.expand(this, new Tensor(data, s, st, offset));
    }

    /** Returns this tensor when it is contiguous, otherwise a contiguous copy. */
    public Tensor contiguous() {
        if (isContiguous()) {
            return this;
        }
        return copy();
    }

    /** Returns a contiguous copy that shares nothing with this tensor. */
    public Tensor copy() {
        Tensor out = zeros(shape);
        Elementwise.unary(Elementwise.Unary.COPY, this, out);
        return Derivatives.unary(Elementwise.Unary.COPY, this, out);
    }

    // ---------------------------------------------------------------- element-wise

    /** Returns {@code this + other}, broadcast. */
    public Tensor add(Tensor other) {
        return binary(Elementwise.Binary.ADD, "add", other);
    }

    /** Returns {@code this + value}. */
    public Tensor add(float value) {
        return binary(Elementwise.Binary.ADD, "add", scalar(value));
    }

    /** Returns {@code this - other}, broadcast. */
    public Tensor sub(Tensor other) {
        return binary(Elementwise.Binary.SUB, "sub", other);
    }

    /** Returns {@code this - value}. */
    public Tensor sub(float value) {
        return binary(Elementwise.Binary.SUB, "sub", scalar(value));
    }

    /** Returns {@code this * other}, broadcast. */
    public Tensor mul(Tensor other) {
        return binary(Elementwise.Binary.MUL, "mul", other);
    }

    /** Returns {@code this * value}. */
    public Tensor mul(float value) {
        return binary(Elementwise.Binary.MUL, "mul", scalar(value));
    }

    /** Returns {@code this / other}, broadcast. */
    public Tensor div(Tensor other) {
        return binary(Elementwise.Binary.DIV, "div", other);
    }

    /** Returns {@code this / value}. */
    public Tensor div(float value) {
        return binary(Elementwise.Binary.DIV, "div", scalar(value));
    }

    /** Returns {@code this} raised to {@code exponent}, element by element, broadcast. */
    public Tensor pow(Tensor exponent) {
        return binary(Elementwise.Binary.POW, "pow", exponent);
    }

    /** Returns {@code this} raised to {@code exponent}. */
    public Tensor pow(float exponent) {
        return binary(Elementwise.Binary.POW, "pow", scalar(exponent));
    }

    /** Returns the element-wise max of {@code this} and {@code other}, broadcast; NaN wins. */
    public Tensor maximum(Tensor other) {
        return binary(Elementwise.Binary.MAX, "maximum", other);
    }

    /** Returns the element-wise max of {@code this} and {@code value}; NaN stays NaN. */
    public Tensor maximum(float value) {
        return binary(Elementwise.Binary.MAX, "maximum", scalar(value));
    }

    /** Returns the element-wise min of {@code this} and {@code other}, broadcast; NaN wins. */
    public Tensor minimum(Tensor other) {
        return binary(Elementwise.Binary.MIN, "minimum", other);
    }

    /** Returns the element-wise min of {@code this} and {@code value}; NaN stays NaN. */
    public Tensor minimum(float value) {
        return binary(Elementwise.Binary.MIN, "minimum", scalar(value));
    }

    /** Returns {@code -this}. */
    public Tensor neg() {
        return unary(Elementwise.Unary.NEG);
    }

    /** Returns {@code e^this}. */
    public Tensor exp() {
        return unary(Elementwise.Unary.EXP);
    }

    /** Returns the natural log. */
    public Tensor log() {
        return unary(Elementwise.Unary.LOG);
    }

    /** Returns the square root. */
    public Tensor sqrt() {
        return unary(Elementwise.Unary.SQRT);
    }

    /** Returns {@code 1 / sqrt(this)}. */
    public Tensor rsqrt() {
        return unary(Elementwise.Unary.RSQRT);
    }

    /** Returns the absolute value. */
    public Tensor abs() {
        return unary(Elementwise.Unary.ABS);
    }

    /** Returns {@code 1 / (1 + e^-this)}. */
    public Tensor sigmoid() {
        return unary(Elementwise.Unary.SIGMOID);
    }

    /** Returns {@code this * sigmoid(this)} (SiLU, also called swish). */
    public Tensor silu() {
        return unary(Elementwise.Unary.SILU);
    }

    /** Returns the hyperbolic tangent. */
    public Tensor tanh() {
        return unary(Elementwise.Unary.TANH);
    }

    /** Returns {@code max(this, 0)}, keeping NaN. */
    public Tensor relu() {
        return unary(Elementwise.Unary.RELU);
    }

    /** Returns -1, 0 or 1 by the sign of each element (NaN stays NaN). */
    public Tensor sign() {
        return unary(Elementwise.Unary.SIGN);
    }

    /** Returns 1 where {@code this > 0} and 0 elsewhere (NaN included). */
    Tensor step() {
        return unary(Elementwise.Unary.STEP);
    }

    /** Returns 1 where {@code this == other} and 0 elsewhere, broadcast; carries no gradient. */
    public Tensor eq(Tensor other) {
        int[] s = Shapes.broadcast("eq", shape, other.shape);
        Tensor out = zeros(s);
        Elementwise.binary(Elementwise.Binary.EQ, expandRaw(s), other.expandRaw(s), out);
        return out;
    }

    /**
     * Returns {@code cond != 0 ? a : b} element by element, all three broadcast together, as
     * {@code torch.where}.
     */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        int[] s = Shapes.broadcast("where", cond.shape, a.shape, b.shape);
        Tensor out = zeros(s);
        Elementwise.where(cond.expandRaw(s), a.expandRaw(s), b.expandRaw(s), out);
        return Derivatives.where(cond, a, b, out);
    }

    /** Returns a copy with {@code value} wherever {@code mask != 0}; the mask broadcasts to this shape. */
    public Tensor maskedFill(Tensor mask, float value) {
        if (!Shapes.same(Shapes.broadcast("maskedFill", shape, mask.shape), shape)) {
            throw new IllegalArgumentException("maskedFill: mask of shape " + Shapes.str(mask.shape)
                    + " cannot be broadcast to the tensor's shape " + Shapes.str(shape));
        }
        return where(mask, scalar(value), this);
    }

    private Tensor unary(Elementwise.Unary op) {
        Tensor out = zeros(shape);
        Elementwise.unary(op, this, out);
        return Derivatives.unary(op, this, out);
    }

    private Tensor binary(Elementwise.Binary op, String name, Tensor other) {
        int[] s = Shapes.broadcast(name, shape, other.shape);
        Tensor out = zeros(s);
        Elementwise.binary(op, expandRaw(s), other.expandRaw(s), out);
        return Derivatives.binary(op, name, this, other, out);
    }

    /** Returns this tensor broadcast to {@code s} (already checked) as a view, without recording. */
    Tensor expandRaw(int[] s) {
        int lead = s.length - shape.length;
        int[] st = new int[s.length];
        for (int d = lead; d < s.length; d++) {
            st[d] = shape[d - lead] == 1 && s[d] != 1 ? 0 : strides[d - lead];
        }
        return new Tensor(data, s, st, offset);
    }

    // ---------------------------------------------------------------- in place
    // NOTE: there is no version counter on the storage, so changing a tensor in place after an op
    // saved it for backward (possible when it does not require grad) gives wrong gradients silently.

    /** Adds {@code other} (broadcast to this shape) into this tensor and returns it. */
    public Tensor addInPlace(Tensor other) {
        return binaryInPlace(Elementwise.Binary.ADD, "addInPlace", other);
    }

    /** Adds {@code value} to every element and returns this tensor. */
    public Tensor addInPlace(float value) {
        return binaryInPlace(Elementwise.Binary.ADD, "addInPlace", scalar(value));
    }

    /** Subtracts {@code other} (broadcast to this shape) from this tensor and returns it. */
    public Tensor subInPlace(Tensor other) {
        return binaryInPlace(Elementwise.Binary.SUB, "subInPlace", other);
    }

    /** Multiplies this tensor by {@code other} (broadcast to this shape) and returns it. */
    public Tensor mulInPlace(Tensor other) {
        return binaryInPlace(Elementwise.Binary.MUL, "mulInPlace", other);
    }

    /** Multiplies every element by {@code value} and returns this tensor. */
    public Tensor mulInPlace(float value) {
        return binaryInPlace(Elementwise.Binary.MUL, "mulInPlace", scalar(value));
    }

    /** Divides this tensor by {@code other} (broadcast to this shape) and returns it. */
    public Tensor divInPlace(Tensor other) {
        return binaryInPlace(Elementwise.Binary.DIV, "divInPlace", other);
    }

    /** Copies {@code src} (broadcast to this shape) into this tensor and returns it. */
    public Tensor copyFrom(Tensor src) {
        checkWritable("copyFrom", src);
        Elementwise.unary(Elementwise.Unary.COPY, expandTo("copyFrom", src), this);
        return this;
    }

    /** Sets every element to {@code value} and returns this tensor. */
    public Tensor fill(float value) {
        return copyFrom(scalar(value));
    }

    private Tensor binaryInPlace(Elementwise.Binary op, String name, Tensor other) {
        checkWritable(name, other);
        Elementwise.binary(op, this, expandTo(name, other), this);
        return this;
    }

    private Tensor expandTo(String name, Tensor other) {
        int[] s = Shapes.broadcast(name, shape, other.shape);
        if (!Shapes.same(s, shape)) {
            throw new IllegalArgumentException(name + ": shapes " + Shapes.str(shape) + " and " + Shapes.str(other.shape)
                    + " broadcast to " + Shapes.str(s) + ", but the result must keep this tensor's shape "
                    + Shapes.str(shape));
        }
        return other.expandRaw(s);
    }

    private void checkWritable(String name, Tensor operand) {
        if (GradMode.isEnabled() && requiresGrad) {
            throw new IllegalStateException(name + ": this tensor requires grad, and changing it in place would corrupt "
                    + "the gradients; use the out-of-place op, or update it inside GradMode.noGrad()");
        }
        if (GradMode.isEnabled() && operand.requiresGrad) {
            throw new IllegalStateException(name + ": the operand requires grad, but in-place results are not recorded; "
                    + "use the out-of-place op, or detach() the operand");
        }
        for (int d = 0; d < shape.length; d++) {
            if (strides[d] == 0 && shape[d] > 1) {
                throw new IllegalArgumentException(name + ": this tensor of shape " + Shapes.str(shape)
                        + " is an expanded view (dim " + d + " has stride 0), so several elements share one storage"
                        + " location; call contiguous() first");
            }
        }
    }

    // ---------------------------------------------------------------- reductions

    /** Returns the sum of all elements as a 0-d tensor. */
    public Tensor sum() {
        return reduce(Reductions.Kind.SUM, "sum", allDims(), false);
    }

    /** Returns the sum over {@code dims}; with {@code keepdim} the reduced dims stay as size 1. */
    public Tensor sum(int[] dims, boolean keepdim) {
        return reduce(Reductions.Kind.SUM, "sum", dims, keepdim);
    }

    /** Returns the sum over {@code dim}. */
    public Tensor sum(int dim, boolean keepdim) {
        return sum(new int[] {dim}, keepdim);
    }

    /** Returns the mean of all elements as a 0-d tensor. */
    public Tensor mean() {
        return mean(allDims(), false);
    }

    /** Returns the mean over {@code dims}. */
    public Tensor mean(int[] dims, boolean keepdim) {
        boolean[] mask = Shapes.dimMask("mean", dims, shape.length);
        Tensor s = reduceRaw(Reductions.Kind.SUM, mask, keepdim);
        int count = numel() / Math.max(1, s.numel());
        float scale = count == 0 ? Float.NaN : 1f / count;
        Elementwise.binary(Elementwise.Binary.MUL, s, scalar(scale).expandRaw(s.shape), s);
        return Derivatives.sum("mean", this, mask, scale, s);
    }

    /** Returns the mean over {@code dim}. */
    public Tensor mean(int dim, boolean keepdim) {
        return mean(new int[] {dim}, keepdim);
    }

    /** Returns the max of all elements as a 0-d tensor (NaN if any element is NaN). */
    public Tensor max() {
        requireNonEmpty("max");
        return reduce(Reductions.Kind.MAX, "max", allDims(), false);
    }

    /** Returns the max over {@code dims} without indices (PyTorch's {@code amax}). */
    public Tensor amax(int[] dims, boolean keepdim) {
        requireNonEmpty("amax");
        return reduce(Reductions.Kind.MAX, "amax", dims, keepdim);
    }

    /** Returns the min of all elements as a 0-d tensor (NaN if any element is NaN). */
    public Tensor min() {
        requireNonEmpty("min");
        return reduce(Reductions.Kind.MIN, "min", allDims(), false);
    }

    /** Max values along one dim and the index of the first occurrence of each. */
    public record MaxResult(Tensor values, IndexTensor indices) {
    }

    /** Returns the max over {@code dim} and the index of its first occurrence; NaN counts as the max. */
    public MaxResult max(int dim, boolean keepdim) {
        int d = Shapes.dim("max", dim, shape.length);
        if (shape[d] == 0) {
            throw new IllegalArgumentException("max: dim " + dim + " of shape " + Shapes.str(shape) + " is empty");
        }
        Object[] result = Reductions.maxWithIndex(this, d);
        int[] outShape = reducedShape(new boolean[shape.length], d, keepdim);
        IndexTensor indices = IndexTensor.of((int[]) result[1], outShape);
        Tensor values = Derivatives.maxAlongDim(this, d, indices, keepdim, wrap((float[]) result[0], outShape));
        return new MaxResult(values, indices);
    }

    /** Returns the index of the first max over {@code dim}. */
    public IndexTensor argmax(int dim, boolean keepdim) {
        return max(dim, keepdim).indices();
    }

    /** Returns the L2 norm of all elements as a 0-d tensor. */
    public Tensor norm() {
        return norm(allDims(), false);
    }

    /** Returns the L2 norm over {@code dims}. */
    public Tensor norm(int[] dims, boolean keepdim) {
        boolean[] mask = Shapes.dimMask("norm", dims, shape.length);
        Tensor s = reduceRaw(Reductions.Kind.SUM_SQUARES, mask, keepdim);
        Elementwise.unary(Elementwise.Unary.SQRT, s, s);
        return Derivatives.norm(this, mask, s);
    }

    private Tensor reduce(Reductions.Kind kind, String name, int[] dims, boolean keepdim) {
        boolean[] mask = Shapes.dimMask(name, dims, shape.length);
        Tensor out = reduceRaw(kind, mask, keepdim);
        return kind == Reductions.Kind.SUM
                ? Derivatives.sum(name, this, mask, 1f, out)
                : Derivatives.extremum(name, this, mask, out);
    }

    private Tensor reduceRaw(Reductions.Kind kind, boolean[] mask, boolean keepdim) {
        Tensor out = Reductions.reduce(kind, this, mask);
        return keepdim ? wrap(out.data, keptShape(mask)) : out;
    }

    private int[] keptShape(boolean[] mask) {
        int[] s = shape.clone();
        for (int d = 0; d < s.length; d++) {
            if (mask[d]) {
                s[d] = 1;
            }
        }
        return s;
    }

    private int[] reducedShape(boolean[] mask, int d, boolean keepdim) {
        mask[d] = true;
        return keepdim ? keptShape(mask) : Reductions.keptShape(shape, mask);
    }

    private int[] allDims() {
        int[] dims = new int[shape.length];
        for (int d = 0; d < dims.length; d++) {
            dims[d] = d;
        }
        return dims;
    }

    private void requireNonEmpty(String name) {
        if (numel() == 0) {
            throw new IllegalArgumentException(name + ": tensor of shape " + Shapes.str(shape) + " is empty");
        }
    }

    // ---------------------------------------------------------------- softmax

    /** Returns softmax over the last dim; a row of all {@code -inf} gives zeros. */
    public Tensor softmax() {
        return softmax(false, "softmax");
    }

    /** Returns log-softmax over the last dim; a row of all {@code -inf} gives {@code -inf} everywhere. */
    public Tensor logSoftmax() {
        return softmax(true, "logSoftmax");
    }

    private Tensor softmax(boolean log, String name) {
        if (shape.length == 0) {
            throw new IllegalArgumentException(name + ": needs at least one dim, got a 0-d tensor");
        }
        Tensor x = isContiguous() ? this : copyRaw();
        Tensor out = zeros(shape);
        int columns = shape[shape.length - 1];
        Softmax.rows(log, x.data, x.offset, out.data, 0, columns == 0 ? 0 : numel() / columns, columns);
        return log ? Derivatives.logSoftmax(this, out) : Derivatives.softmax(this, out);
    }

    /** Returns a contiguous copy without recording it. */
    Tensor copyRaw() {
        Tensor out = zeros(shape);
        Elementwise.unary(Elementwise.Unary.COPY, this, out);
        return out;
    }

    // ---------------------------------------------------------------- indexing

    /** Returns the slices at {@code index} along {@code dim}, in that order (an embedding lookup on dim 0). */
    public Tensor indexSelect(int dim, int[] index) {
        int d = Shapes.dim("indexSelect", dim, shape.length);
        return Derivatives.indexSelect(this, d, index.clone(), Indexing.indexSelect(this, d, index));
    }

    /** Returns {@code out[i][j] = this[i][index[i][j]]} for {@code dim = 1}, and likewise for any dim, as {@code torch.gather}. */
    public Tensor gather(int dim, IndexTensor index) {
        int d = Shapes.dim("gather", dim, shape.length);
        return Derivatives.gather(this, d, index, Indexing.gather(this, d, index));
    }

    /** Returns a copy with {@code src} added at {@code index} along {@code dim}, as {@code torch.scatter_add}. */
    public Tensor scatterAdd(int dim, IndexTensor index, Tensor src) {
        int d = Shapes.dim("scatterAdd", dim, shape.length);
        return Derivatives.scatterAdd(this, d, index, src, Indexing.scatterAdd(this, d, index, src));
    }

    /** Returns the tensors joined along {@code dim}; every other size must match. */
    public static Tensor concat(int dim, Tensor... tensors) {
        Tensor out = Indexing.concat(dim, tensors);
        return Derivatives.concat(Shapes.dim("concat", dim, tensors[0].dim()), tensors, out);
    }

    /** Returns the tensors, which must have one shape, stacked along a new dim {@code dim}. */
    public static Tensor stack(int dim, Tensor... tensors) {
        return concat(dim, Indexing.stackParts(dim, tensors));
    }

    /** Returns a copy with the elements below diagonal {@code diagonal} of the last two dims set to zero. */
    public Tensor triu(int diagonal) {
        return Derivatives.triangle(this, diagonal, true, Indexing.triangle(this, diagonal, true));
    }

    /** Returns a copy with the elements above diagonal {@code diagonal} of the last two dims set to zero. */
    public Tensor tril(int diagonal) {
        return Derivatives.triangle(this, diagonal, false, Indexing.triangle(this, diagonal, false));
    }

    // ---------------------------------------------------------------- matmul

    /** Returns the matrix product with the broadcasting rules of {@code torch.matmul}. */
    public Tensor matmul(Tensor other) {
        Tensor out;
        try (GradMode.Scope scope = GradMode.noGrad()) {
            // the views Matmul takes internally are not part of the graph
            out = Matmul.matmul(this, other);
        }
        return Derivatives.matmul(this, other, out);
    }

    // ---------------------------------------------------------------- autograd

    /** Returns whether gradients flow to this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * Sets whether a backward pass computes this leaf's gradient, and returns this tensor.
     *
     * @throws IllegalStateException on a tensor computed by an op (use {@link #detach()})
     */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null) {
            throw new IllegalStateException("requiresGrad: only leaf tensors can change it, and this one was computed by '"
                    + gradFn.op() + "'; call detach() for a leaf that shares its storage");
        }
        requiresGrad = value;
        return this;
    }

    /** Returns the gradient accumulated by backward passes, or null before the first one. */
    public Tensor grad() {
        return grad;
    }

    /** Drops the accumulated gradient, so the next backward pass starts from zero. */
    public void zeroGrad() {
        grad = null;
    }

    /** Returns the node of the op that computed this tensor, or null for a leaf. */
    public Node gradFn() {
        return gradFn;
    }

    /** Returns whether this tensor was made directly rather than computed by a recorded op. */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Returns a view of the same storage that is a leaf and does not require grad. */
    public Tensor detach() {
        return new Tensor(data, shape, strides, offset);
    }

    /** Runs backward from this one-element tensor, adding d(this)/d(leaf) into every leaf's {@link #grad()}. */
    public void backward() {
        Autograd.backward(this, null, false);
    }

    /** Runs backward with {@code gradient} (this tensor's shape) as the gradient of this output. */
    public void backward(Tensor gradient) {
        Autograd.backward(this, gradient, false);
    }

    /**
     * Runs backward; with {@code retainGraph} the nodes keep their saved tensors, so another
     * backward pass through them is possible (otherwise it fails).
     */
    public void backward(Tensor gradient, boolean retainGraph) {
        Autograd.backward(this, gradient, retainGraph);
    }

    // ---------------------------------------------------------------- printing

    /** Returns the values in PyTorch's layout (summarised beyond 1000 elements) followed by the shape. */
    @Override
    public String toString() {
        return TensorFormat.format(this);
    }
}
