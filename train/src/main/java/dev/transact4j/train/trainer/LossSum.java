package dev.transact4j.train.trainer;

import dev.transact4j.tensor.Tensor;

/**
 * The summed cross entropy of one micro-batch and the number of target tokens it sums over.
 *
 * @param sum one-element tensor, the loss summed over the target tokens, with autograd recorded
 *     during training
 * @param tokens the number of target tokens in the sum
 */
public record LossSum(Tensor sum, long tokens) {

    public LossSum {
        if (sum.numel() != 1) {
            throw new IllegalArgumentException("LossSum: the loss must have one element, got shape "
                    + java.util.Arrays.toString(sum.shape()));
        }
        if (tokens < 0) {
            throw new IllegalArgumentException("LossSum: the token count must be 0 or more, got " + tokens);
        }
    }
}
