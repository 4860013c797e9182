package dev.transact4j.train.pipeline;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The losses of consecutive training phases on one step axis: each phase's steps continue the
 * previous phase's count, and pruning shots are marked at the step where they happened.
 */
public final class LossCurve {

    /** One point: the step on the shared axis and a loss. */
    public record Point(long step, double loss) {
    }

    /** A pruning shot at {@code step}. */
    public record Marker(long step, String label) {
    }

    private final List<Point> train = new ArrayList<>();
    private final List<Point> validation = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private long offset;

    /** Returns the step at which the next phase starts. */
    public synchronized long nextStep() {
        return offset;
    }

    /** Records a training loss of the current phase, {@code step} counted from 1 within it. */
    public synchronized void addTrain(long step, double loss) {
        train.add(new Point(offset + step, loss));
    }

    /** Records a validation loss at {@code step} steps of the current phase. */
    public synchronized void addValidation(long step, double loss) {
        validation.add(new Point(offset + step, loss));
    }

    /** Records a validation loss outside training, at the current end of the axis. */
    public synchronized void addValidationHere(double loss) {
        validation.add(new Point(offset, loss));
    }

    /** Marks a pruning shot at the current end of the axis. */
    public synchronized void mark(String label) {
        markers.add(new Marker(offset, label));
    }

    /** Closes a phase of {@code steps} steps; the next phase starts after it. */
    public synchronized void endPhase(long steps) {
        offset += steps;
    }

    public synchronized List<Point> train() {
        return Collections.unmodifiableList(new ArrayList<>(train));
    }

    public synchronized List<Point> validation() {
        return Collections.unmodifiableList(new ArrayList<>(validation));
    }

    public synchronized List<Marker> markers() {
        return Collections.unmodifiableList(new ArrayList<>(markers));
    }
}
