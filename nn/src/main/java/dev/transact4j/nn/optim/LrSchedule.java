package dev.transact4j.nn.optim;

/**
 * Learning-rate schedule: linear warm-up from 0, then a constant, linear or cosine decay towards a
 * minimum ratio of the base rate. It gives the factor by which the base rate is multiplied, as a
 * torch LambdaLR does.
 *
 * <p>The formulas are those of Hugging Face transformers' {@code get_constant_schedule_with_warmup},
 * {@code get_linear_schedule_with_warmup}, {@code get_cosine_schedule_with_warmup} and
 * {@code get_cosine_with_min_lr_schedule_with_warmup} (transformers/optimization.py), all in double:
 * <pre>
 * step &lt; warmup:  step / max(1, warmup)
 * progress      = (step - warmup) / max(1, total - warmup)
 * constant:      1
 * linear:        max(0, (total - step) / max(1, total - warmup)) * (1 - min) + min
 * cosine:        max(0, 0.5 * (1 + cos(pi * cycles * 2 * progress)) * (1 - min) + min)
 * </pre>
 * With a minimum ratio of 0 each matches its transformers function exactly. Transformers has no
 * minimum for the linear decay, and the constant schedule ignores it. Past {@code total} the
 * cosine rises again, as in transformers, because progress is not clamped.
 */
public final class LrSchedule {

    /** Shape of the decay after warm-up. */
    public enum Decay {
        CONSTANT, LINEAR, COSINE
    }

    private final Decay decay;
    private final long warmupSteps;
    private final long totalSteps;
    private final double minLrRatio;
    private final double cycles;

    private LrSchedule(Decay decay, long warmupSteps, long totalSteps, double minLrRatio, double cycles) {
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("LrSchedule: warm-up steps must be 0 or more, got " + warmupSteps);
        }
        if (decay != Decay.CONSTANT && totalSteps < 0) {
            throw new IllegalArgumentException("LrSchedule: total steps must be 0 or more, got " + totalSteps);
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new IllegalArgumentException("LrSchedule: minimum lr ratio must be in [0, 1], got " + minLrRatio);
        }
        this.decay = decay;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
        this.minLrRatio = minLrRatio;
        this.cycles = cycles;
    }

    /** Returns a constant schedule after {@code warmupSteps} of linear warm-up. */
    public static LrSchedule constant(long warmupSteps) {
        return new LrSchedule(Decay.CONSTANT, warmupSteps, 0, 0, 0.5);
    }

    /** Returns a linear decay to 0 at {@code totalSteps}, after {@code warmupSteps} of warm-up. */
    public static LrSchedule linear(long warmupSteps, long totalSteps) {
        return new LrSchedule(Decay.LINEAR, warmupSteps, totalSteps, 0, 0.5);
    }

    /** Returns a half-cosine decay to 0 at {@code totalSteps}, after {@code warmupSteps} of warm-up. */
    public static LrSchedule cosine(long warmupSteps, long totalSteps) {
        return new LrSchedule(Decay.COSINE, warmupSteps, totalSteps, 0, 0.5);
    }

    /** Returns this schedule decaying to {@code ratio} times the base rate instead of 0. */
    public LrSchedule withMinLrRatio(double ratio) {
        return new LrSchedule(decay, warmupSteps, totalSteps, ratio, cycles);
    }

    /** Returns this schedule with {@code cycles} cosine waves over the decay (0.5, the default, is a half wave). */
    public LrSchedule withCycles(double cycles) {
        return new LrSchedule(decay, warmupSteps, totalSteps, minLrRatio, cycles);
    }

    /**
     * Returns the warm-up steps for a warm-up given as a fraction of training, {@code ceil(total * ratio)},
     * as transformers' TrainingArguments.get_warmup_steps computes it.
     */
    public static long warmupStepsFromRatio(double ratio, long totalSteps) {
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new IllegalArgumentException("LrSchedule: warm-up ratio must be in [0, 1], got " + ratio);
        }
        return (long) Math.ceil(totalSteps * ratio);
    }

    public Decay decay() {
        return decay;
    }

    public long warmupSteps() {
        return warmupSteps;
    }

    public long totalSteps() {
        return totalSteps;
    }

    public double minLrRatio() {
        return minLrRatio;
    }

    /**
     * Returns the factor for the step numbered {@code step}, counting optimiser steps already taken
     * (0 for the first), which is LambdaLR's {@code last_epoch} when it is stepped after each
     * optimiser step.
     */
    public double factor(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("LrSchedule: step must be 0 or more, got " + step);
        }
        if (step < warmupSteps) {
            return (double) step / (double) Math.max(1, warmupSteps);
        }
        switch (decay) {
            case CONSTANT:
                return 1.0;
            case LINEAR: {
                double linear = Math.max(0.0, (double) (totalSteps - step) / (double) Math.max(1, totalSteps - warmupSteps));
                return linear * (1 - minLrRatio) + minLrRatio;
            }
            case COSINE: {
                double progress = (double) (step - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps);
                double value = 0.5 * (1.0 + Math.cos(Math.PI * cycles * 2.0 * progress));
                return Math.max(0, value * (1 - minLrRatio) + minLrRatio);
            }
            default:
                throw new AssertionError(decay);
        }
    }

    /** Returns {@code baseLr * factor(step)}. */
    public double lr(double baseLr, long step) {
        return baseLr * factor(step);
    }

    @Override
    public String toString() {
        return "LrSchedule[" + decay + ", warmup " + warmupSteps + ", total " + totalSteps + ", min ratio " + minLrRatio
                + ", cycles " + cycles + "]";
    }
}
