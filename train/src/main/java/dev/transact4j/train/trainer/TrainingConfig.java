package dev.transact4j.train.trainer;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Hyperparameters of a training run, stored as JSON (snake_case keys) in every checkpoint.
 *
 * <p>One optimiser step reads {@code gradientAccumulationSteps} micro-batches of
 * {@code microBatchSize} blocks, the global batch. The learning rate warms up linearly for
 * {@code warmupSteps}, then follows a half cosine down to {@code minLrRatio * learningRate} at
 * {@code maxSteps}. AdamW uses betas 0.9 and 0.95 by default and applies {@code weightDecay} to matrices only: parameters with fewer than two dimensions
 * (norm weights, biases) are not decayed.
 *
 * @param seed seeds weight initialisation (done by the caller), data shuffling and {@link TrainingRandom}
 * @param maxGradNorm the global L2 norm gradients are clipped to; 0 turns clipping off
 * @param evalEvery steps between evaluations on the validation blocks; 0 evaluates only at the end
 * @param evalBatches micro-batches per evaluation; 0 evaluates every validation block
 * @param checkpointEvery steps between checkpoints; 0 writes only the final one
 */
public record TrainingConfig(long seed, int microBatchSize, int gradientAccumulationSteps, long maxSteps,
                             double learningRate, double minLrRatio, long warmupSteps, double weightDecay,
                             double beta1, double beta2, double eps, double maxGradNorm, boolean shuffle,
                             int evalEvery, int evalBatches, int checkpointEvery) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES);

    /** @throws IllegalArgumentException naming the first invalid field and its value */
    public TrainingConfig {
        requireAtLeast("micro_batch_size", microBatchSize, 1);
        requireAtLeast("gradient_accumulation_steps", gradientAccumulationSteps, 1);
        requireAtLeast("max_steps", maxSteps, 1);
        requireAtLeast("warmup_steps", warmupSteps, 0);
        requireAtLeast("eval_every", evalEvery, 0);
        requireAtLeast("eval_batches", evalBatches, 0);
        requireAtLeast("checkpoint_every", checkpointEvery, 0);
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw invalid("learning_rate", learningRate, "a positive finite number");
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw invalid("min_lr_ratio", minLrRatio, "a number in [0, 1]");
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw invalid("weight_decay", weightDecay, "a finite number of 0 or more");
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw invalid("beta1", beta1, "a number in [0, 1)");
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw invalid("beta2", beta2, "a number in [0, 1)");
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw invalid("eps", eps, "a finite number of 0 or more");
        }
        if (!(maxGradNorm >= 0) || Double.isInfinite(maxGradNorm)) {
            throw invalid("max_grad_norm", maxGradNorm, "a finite number of 0 or more (0 turns clipping off)");
        }
    }

    private static void requireAtLeast(String field, long value, long min) {
        if (value < min) {
            throw invalid(field, value, "at least " + min);
        }
    }

    private static IllegalArgumentException invalid(String field, Object value, String expected) {
        return new IllegalArgumentException("Training config: " + field + " must be " + expected + ", got " + value);
    }

    /** Returns a builder with the defaults; see {@link Builder}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns a builder holding this config's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Returns the number of blocks in one optimiser step. */
    public int globalBatchSize() {
        return microBatchSize * gradientAccumulationSteps;
    }

    /** Returns the config as JSON with snake_case keys. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the training config as JSON", e);
        }
    }

    /**
     * Reads a config written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException when the JSON is malformed, has an unknown or missing key,
     *     or contains an invalid value
     */
    public static TrainingConfig fromJson(String json) {
        try {
            TrainingConfig config = JSON.readValue(json, TrainingConfig.class);
            if (config == null) {
                throw new IllegalArgumentException("Training config: the JSON is empty");
            }
            return config;
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new IllegalArgumentException("Training config: cannot read the JSON: " + cause.getMessage(), e);
        }
    }

    /**
     * Lists the fields whose values differ from {@code other} and change the training arithmetic,
     * as {@code "name: this -> other"}. Only {@code eval_every}, {@code eval_batches} and
     * {@code checkpoint_every} may change when a run is resumed, because the losses do not depend on them.
     */
    public List<String> arithmeticDifferences(TrainingConfig other) {
        List<String> out = new ArrayList<>();
        compare(out, "seed", seed, other.seed);
        compare(out, "micro_batch_size", microBatchSize, other.microBatchSize);
        compare(out, "gradient_accumulation_steps", gradientAccumulationSteps, other.gradientAccumulationSteps);
        compare(out, "max_steps", maxSteps, other.maxSteps);
        compare(out, "learning_rate", learningRate, other.learningRate);
        compare(out, "min_lr_ratio", minLrRatio, other.minLrRatio);
        compare(out, "warmup_steps", warmupSteps, other.warmupSteps);
        compare(out, "weight_decay", weightDecay, other.weightDecay);
        compare(out, "beta1", beta1, other.beta1);
        compare(out, "beta2", beta2, other.beta2);
        compare(out, "eps", eps, other.eps);
        compare(out, "max_grad_norm", maxGradNorm, other.maxGradNorm);
        compare(out, "shuffle", shuffle, other.shuffle);
        return out;
    }

    private static void compare(List<String> out, String field, Object a, Object b) {
        if (!a.equals(b)) {
            out.add(field + ": " + a + " -> " + b);
        }
    }

    /**
     * Builds a {@link TrainingConfig}. The defaults are seed 0, micro-batch 8, 1 accumulation
     * step and 1000 steps. The learning rate is 3e-4, warms up for 100 steps and decays to 10% of
     * itself. AdamW uses weight decay 0.1, betas 0.9 and 0.95 and eps 1e-8, and gradients are
     * clipped at 1.0. Shuffling is on. Evaluation, over the whole validation split, and
     * checkpoints come every 100 steps.
     */
    public static final class Builder {
        private long seed;
        private int microBatchSize = 8;
        private int gradientAccumulationSteps = 1;
        private long maxSteps = 1000;
        private double learningRate = 3e-4;
        private double minLrRatio = 0.1;
        private long warmupSteps = 100;
        private double weightDecay = 0.1;
        private double beta1 = 0.9;
        private double beta2 = 0.95;
        private double eps = 1e-8;
        private double maxGradNorm = 1.0;
        private boolean shuffle = true;
        private int evalEvery = 100;
        private int evalBatches;
        private int checkpointEvery = 100;

        private Builder() {
        }

        private Builder(TrainingConfig c) {
            seed = c.seed;
            microBatchSize = c.microBatchSize;
            gradientAccumulationSteps = c.gradientAccumulationSteps;
            maxSteps = c.maxSteps;
            learningRate = c.learningRate;
            minLrRatio = c.minLrRatio;
            warmupSteps = c.warmupSteps;
            weightDecay = c.weightDecay;
            beta1 = c.beta1;
            beta2 = c.beta2;
            eps = c.eps;
            maxGradNorm = c.maxGradNorm;
            shuffle = c.shuffle;
            evalEvery = c.evalEvery;
            evalBatches = c.evalBatches;
            checkpointEvery = c.checkpointEvery;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public Builder microBatchSize(int value) {
            microBatchSize = value;
            return this;
        }

        public Builder gradientAccumulationSteps(int value) {
            gradientAccumulationSteps = value;
            return this;
        }

        public Builder maxSteps(long value) {
            maxSteps = value;
            return this;
        }

        public Builder learningRate(double value) {
            learningRate = value;
            return this;
        }

        public Builder minLrRatio(double value) {
            minLrRatio = value;
            return this;
        }

        public Builder warmupSteps(long value) {
            warmupSteps = value;
            return this;
        }

        public Builder weightDecay(double value) {
            weightDecay = value;
            return this;
        }

        public Builder betas(double first, double second) {
            beta1 = first;
            beta2 = second;
            return this;
        }

        public Builder eps(double value) {
            eps = value;
            return this;
        }

        public Builder maxGradNorm(double value) {
            maxGradNorm = value;
            return this;
        }

        public Builder shuffle(boolean value) {
            shuffle = value;
            return this;
        }

        public Builder evalEvery(int value) {
            evalEvery = value;
            return this;
        }

        public Builder evalBatches(int value) {
            evalBatches = value;
            return this;
        }

        public Builder checkpointEvery(int value) {
            checkpointEvery = value;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid field */
        public TrainingConfig build() {
            return new TrainingConfig(seed, microBatchSize, gradientAccumulationSteps, maxSteps, learningRate,
                    minLrRatio, warmupSteps, weightDecay, beta1, beta2, eps, maxGradNorm, shuffle, evalEvery,
                    evalBatches, checkpointEvery);
        }
    }
}
