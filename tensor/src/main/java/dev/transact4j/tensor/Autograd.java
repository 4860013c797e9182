package dev.transact4j.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reverse-mode engine: records a {@link Node} on the output of each op whose inputs require
 * grad, and runs the backward sweep.
 *
 * <p>{@link #backward} orders the graph topologically (every node before the nodes of its inputs),
 * then runs each node once with the sum of the gradients that reached its output, and adds the
 * gradients of leaves into their {@code grad}. The sweep itself records nothing, so gradients of
 * gradients are not supported.
 */
final class Autograd {

    private Autograd() {
    }

    /** Returns whether an op on {@code inputs} would be recorded now. */
    static boolean recording(Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad) {
                return true;
            }
        }
        return false;
    }

    /**
     * Attaches a node to {@code out} when grad mode is on and an input requires grad, and returns
     * {@code out}. {@code saved} contains what {@code backward} reads through {@link Node#saved}.
     */
    static Tensor record(Tensor out, String op, Node.Backward backward, Tensor[] inputs, Tensor... saved) {
        if (!recording(inputs)) {
            return out;
        }
        out.requiresGrad = true;
        out.gradFn = new Node(op, backward, out.shape.clone(), inputs, saved);
        return out;
    }

    static void backward(Tensor root, Tensor gradient, boolean retainGraph) {
        if (!root.requiresGrad) {
            throw new IllegalStateException("backward: this tensor of shape " + Shapes.str(root.shape)
                    + " does not require grad; call requiresGrad(true) on an input before computing it");
        }
        if (gradient == null) {
            if (root.numel() != 1) {
                throw new IllegalArgumentException("backward: the output of shape " + Shapes.str(root.shape)
                        + " is not a scalar; pass a gradient of that shape to backward(gradient)");
            }
            gradient = Tensor.ones(root.shape);
        } else if (!Shapes.same(gradient.shape, root.shape)) {
            throw new IllegalArgumentException("backward: gradient of shape " + Shapes.str(gradient.shape)
                    + " does not match the output's shape " + Shapes.str(root.shape));
        }

        try (GradMode.Scope scope = GradMode.noGrad()) {
            if (root.gradFn == null) {
                accumulateLeaf(root, gradient);
                return;
            }
            Map<Node, Tensor> grads = new IdentityHashMap<>();
            grads.put(root.gradFn, gradient);
            for (Node node : topologicalOrder(root.gradFn)) {
                Tensor grad = grads.remove(node);
                if (grad == null) {
                    continue;
                }
                if (node.isReleased()) {
                    throw new IllegalStateException("backward: the graph through op '" + node.op() + "' was freed by an "
                            + "earlier backward; pass retainGraph = true to the first backward to run backward twice");
                }
                Tensor[] inputs = node.inputs();
                Tensor[] inputGrads = node.run(grad);
                for (int i = 0; i < inputs.length; i++) {
                    Tensor input = inputs[i];
                    if (input == null || !input.requiresGrad || inputGrads[i] == null) {
                        continue;
                    }
                    if (!Shapes.same(inputGrads[i].shape, input.shape)) {
                        throw new IllegalStateException("backward of op '" + node.op() + "' returned a gradient of shape "
                                + Shapes.str(inputGrads[i].shape) + " for input " + i + " of shape " + Shapes.str(input.shape));
                    }
                    if (input.gradFn == null) {
                        accumulateLeaf(input, inputGrads[i]);
                    } else {
                        grads.merge(input.gradFn, inputGrads[i], Tensor::add);
                    }
                }
                if (!retainGraph) {
                    node.release();
                }
            }
        }
    }

    private static void accumulateLeaf(Tensor leaf, Tensor grad) {
        if (leaf.grad == null) {
            leaf.grad = grad.copy();
        } else {
            leaf.grad.addInPlace(grad);
        }
    }

    /** Returns the nodes reachable from {@code root}, each before the nodes of its inputs (iterative, so deep graphs fit). */
    private static List<Node> topologicalOrder(Node root) {
        List<Node> postOrder = new ArrayList<>();
        Set<Node> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Object[]> stack = new ArrayDeque<>();
        visited.add(root);
        stack.push(new Object[] {root, 0});
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Node node = (Node) frame[0];
            int next = (Integer) frame[1];
            Tensor[] inputs = node.isReleased() ? new Tensor[0] : node.inputs();
            if (next < inputs.length) {
                frame[1] = next + 1;
                Tensor input = inputs[next];
                if (input != null && input.gradFn != null && visited.add(input.gradFn)) {
                    stack.push(new Object[] {input.gradFn, 0});
                }
            } else {
                stack.pop();
                postOrder.add(node);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }

    /** Sums {@code grad} (the shape two operands broadcast to) back down to an operand's {@code shape}. */
    static Tensor sumTo(Tensor grad, int[] shape) {
        if (Shapes.same(grad.shape, shape)) {
            return grad;
        }
        int lead = grad.shape.length - shape.length;
        int[] dims = new int[grad.shape.length];
        int n = 0;
        for (int d = 0; d < grad.shape.length; d++) {
            if (d < lead || (shape[d - lead] == 1 && grad.shape[d] != 1)) {
                dims[n++] = d;
            }
        }
        return grad.sum(java.util.Arrays.copyOf(dims, n), true).reshape(shape);
    }
}
