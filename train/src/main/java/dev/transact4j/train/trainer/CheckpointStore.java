package dev.transact4j.train.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.Module;
import dev.transact4j.nn.StateDicts;
import dev.transact4j.nn.io.AtomicFiles;
import dev.transact4j.nn.optim.Optimizer;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.train.data.DataPosition;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint of a run directory, {@code <run>/checkpoint}, holding:
 * <ul>
 *   <li>{@code model.safetensors}: the module's state dict in float32, loadable by Hugging Face;
 *   <li>{@code optimizer.safetensors}: the optimiser's moments and step count, as {@link Optimizer#save} writes them;
 *   <li>{@code trainer_state.json}: the {@link TrainerState} (schedule step, data position, RNG state);
 *   <li>{@code training_config.json}: the {@link TrainingConfig};
 *   <li>the files of {@link TrainableModel#writeCheckpointFiles}, such as a Llama's {@code config.json}.
 * </ul>
 *
 * <p>A save writes every file into {@code checkpoint.tmp}, forces each to disk, then renames the
 * current checkpoint to {@code checkpoint.previous}, renames {@code checkpoint.tmp} to
 * {@code checkpoint} and deletes {@code checkpoint.previous}. A crash at any point leaves one
 * complete checkpoint: before the first rename it is {@code checkpoint}, between the two renames
 * {@code checkpoint.previous}, which {@link #load} then reads. A leftover {@code checkpoint.tmp}
 * is never read and is deleted by the next save.
 */
public final class CheckpointStore {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String MODEL_FILE = "model.safetensors";
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String STATE_FILE = "trainer_state.json";
    static final String CONFIG_FILE = "training_config.json";

    /** Called after each file of a save is complete; tests use it to stop a save half-way. */
    interface SaveHook {
        void afterFile(String name) throws IOException;
    }

    private final Path runDir;
    private final Path current;
    private final Path previous;
    private final Path temporary;
    private SaveHook hook = name -> { };

    /** Creates the store of {@code runDir}; nothing is read or written yet. */
    public CheckpointStore(Path runDir) {
        this.runDir = runDir;
        this.current = runDir.resolve("checkpoint");
        this.previous = runDir.resolve("checkpoint.previous");
        this.temporary = runDir.resolve("checkpoint.tmp");
    }

    void setSaveHook(SaveHook hook) {
        this.hook = hook;
    }

    /** Returns the directory of the current checkpoint, which may not exist yet. */
    public Path directory() {
        return current;
    }

    /** Returns the complete checkpoint to resume from, or null when there is none. */
    public Path completeCheckpoint() {
        if (Files.isRegularFile(current.resolve(STATE_FILE))) {
            return current;
        }
        if (Files.isRegularFile(previous.resolve(STATE_FILE))) {
            return previous;
        }
        return null;
    }

    /** Writes a checkpoint of the model, optimiser and state atomically, replacing the current one. */
    void save(TrainableModel model, Optimizer optimizer, TrainerState state, TrainingConfig config)
            throws IOException {
        Module module = model.module();
        Files.createDirectories(runDir);
        AtomicFiles.deleteTree(temporary);
        Files.createDirectory(temporary);

        // every file into checkpoint.tmp, each forced to disk; the state file last
        StateDicts.save(module, temporary.resolve(MODEL_FILE), DType.F32);
        finishFile(MODEL_FILE);
        model.writeCheckpointFiles(temporary);
        forceFiles(temporary);
        optimizer.save(temporary.resolve(OPTIMIZER_FILE));
        finishFile(OPTIMIZER_FILE);
        Files.writeString(temporary.resolve(CONFIG_FILE), config.toJson(), StandardCharsets.UTF_8);
        finishFile(CONFIG_FILE);
        Files.writeString(temporary.resolve(STATE_FILE), stateJson(state), StandardCharsets.UTF_8);
        finishFile(STATE_FILE);
        forceDirectory(temporary);

        // swap it in: the old checkpoint stays complete until the new one has its name
        if (Files.exists(current)) {
            AtomicFiles.deleteTree(previous);
            Files.move(current, previous, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(runDir);
        }
        Files.move(temporary, current, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory(runDir);
        AtomicFiles.deleteTree(previous);
    }

    /** Forces every file in {@code dir} to disk, for the files a model adds. */
    private static void forceFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            }
        }
    }

    private void finishFile(String name) throws IOException {
        try (FileChannel channel = FileChannel.open(temporary.resolve(name), StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        hook.afterFile(name);
    }

    /**
     * Reads the complete checkpoint into {@code module} and {@code optimizer} and returns its state
     * and config.
     *
     * @throws IllegalStateException when the run directory contains no complete checkpoint
     * @throws IllegalArgumentException naming the file when a file is malformed or does not fit the model
     */
    Loaded load(Module module, Optimizer optimizer) throws IOException {
        Path dir = completeCheckpoint();
        if (dir == null) {
            throw new IllegalStateException("No checkpoint to resume in " + runDir + ": neither " + current + " nor "
                    + previous + " contains " + STATE_FILE + ". Start a new run instead.");
        }
        if (dir.equals(previous)) {
            LOG.warn("Resuming from {}: a save was interrupted before it replaced {}", previous, current);
        }
        TrainerState state = readState(dir.resolve(STATE_FILE));
        TrainingConfig config = TrainingConfig.fromJson(Files.readString(dir.resolve(CONFIG_FILE)));
        StateDicts.loadInto(module, dir.resolve(MODEL_FILE), true);
        Path optimizerFile = dir.resolve(OPTIMIZER_FILE);
        optimizer.load(optimizerFile);
        if (optimizer.steps() != state.step()) {
            throw new IllegalArgumentException(optimizerFile + ": the optimiser has taken " + optimizer.steps()
                    + " steps but " + STATE_FILE + " records " + state.step() + "; the checkpoint is inconsistent");
        }
        return new Loaded(dir, state, config);
    }

    /** A checkpoint read back: where it was, the run's state and its config. */
    record Loaded(Path directory, TrainerState state, TrainingConfig config) {
    }

    static String stateJson(TrainerState state) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format_version", TrainerState.FORMAT_VERSION);
        root.put("step", state.step());
        root.put("schedule_step", state.step());
        ObjectNode position = root.putObject("data_position");
        position.put("epoch", state.dataPosition().epoch());
        position.put("cursor", state.dataPosition().cursor());
        root.put("rng_state", state.rngState());
        root.put("tokens_seen", state.tokensSeen());
        // JSON has no NaN, so the loss before the first step is stored as null
        if (Double.isFinite(state.trainLoss())) {
            root.put("train_loss", state.trainLoss());
        } else {
            root.putNull("train_loss");
        }
        return root.toPrettyString();
    }

    static TrainerState readState(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": invalid JSON: " + e.getMessage(), e);
        }
        int version = require(root, "format_version", file).asInt();
        if (version != TrainerState.FORMAT_VERSION) {
            throw new IllegalArgumentException(file + ": format_version " + version + " is not supported; this build"
                    + " reads version " + TrainerState.FORMAT_VERSION);
        }
        JsonNode position = require(root, "data_position", file);
        JsonNode loss = root.path("train_loss");
        return new TrainerState(require(root, "step", file).asLong(),
                new DataPosition(require(position, "epoch", file).asLong(), require(position, "cursor", file).asInt()),
                require(root, "rng_state", file).asLong(), require(root, "tokens_seen", file).asLong(),
                loss.isNumber() ? loss.asDouble() : Double.NaN);
    }

    private static JsonNode require(JsonNode node, String field, Path file) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException(file + ": the field '" + field + "' is missing");
        }
        return value;
    }

    /** Forces a directory's entries to disk; Linux and macOS allow it, Windows cannot open a directory. */
    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.debug("Cannot force directory {} to disk: {}", dir, e.toString());
        }
    }
}
