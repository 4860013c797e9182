package dev.transact4j.train.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.io.AtomicFiles;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The machine-readable log of a run, {@code <run>/metrics.jsonl}: one JSON object per line with a
 * {@code type} of {@code train} (step, loss, lr, grad_norm, tokens, ms, tokens_per_s), {@code eval}
 * (step, val_loss, val_perplexity, val_tokens), {@code stopped} (step, reason) or {@code end}
 * (step, peak_heap_bytes). Each line is flushed when written. Doubles are written in the shortest
 * form that reads back to the same value, so losses can be compared bitwise.
 */
public final class MetricsLog implements Closeable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    private MetricsLog(BufferedWriter out) {
        this.out = out;
    }

    /** Starts a new log at {@code file}, replacing any old one. */
    static MetricsLog create(Path file) throws IOException {
        return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
    }

    /**
     * Continues the log at {@code file} after step {@code step}: lines of later steps, written by
     * the run that was interrupted after its checkpoint, are dropped (through a temporary file
     * and a rename), so the log contains each step once.
     */
    static MetricsLog resumeAfter(Path file, long step) throws IOException {
        if (Files.exists(file)) {
            List<String> linesToKeep = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (IOException e) {
                    // a line cut short by the kill that interrupted the run
                    continue;
                }
                if (node.path("step").asLong(Long.MAX_VALUE) <= step) {
                    linesToKeep.add(line);
                }
            }
            StringBuilder kept = new StringBuilder();
            for (String line : linesToKeep) {
                kept.append(line).append(System.lineSeparator());
            }
            AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
        }
        return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE));
    }

    void step(StepMetrics m) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "train");
        node.put("step", m.step());
        node.put("loss", m.loss());
        node.put("lr", m.learningRate());
        node.put("grad_norm", m.gradNorm());
        node.put("tokens", m.tokens());
        node.put("ms", m.millis());
        node.put("tokens_per_s", m.tokensPerSecond());
        write(node);
    }

    void eval(EvalMetrics m) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "eval");
        node.put("step", m.step());
        node.put("val_loss", m.loss());
        node.put("val_perplexity", m.perplexity());
        node.put("val_tokens", m.tokens());
        write(node);
    }

    void stopped(long step, String reason) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "stopped");
        node.put("step", step);
        node.put("reason", reason);
        write(node);
    }

    void end(long step, long peakHeapBytes) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "end");
        node.put("step", step);
        node.put("peak_heap_bytes", peakHeapBytes);
        write(node);
    }

    private void write(ObjectNode node) throws IOException {
        out.write(JSON.writeValueAsString(node));
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Reads the {@code loss} of every {@code train} line of a log, in file order, for comparing runs. */
    public static List<double[]> readTrainLosses(Path file) throws IOException {
        return readLosses(file, "train", "loss");
    }

    /** Reads the {@code val_loss} of every {@code eval} line of a log as {step, loss}, in file order. */
    public static List<double[]> readValidationLosses(Path file) throws IOException {
        return readLosses(file, "eval", "val_loss");
    }

    private static List<double[]> readLosses(Path file, String type, String field) throws IOException {
        List<double[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = JSON.readTree(line);
            if (type.equals(node.path("type").asText())) {
                out.add(new double[] {node.get("step").asLong(), node.get(field).asDouble()});
            }
        }
        return out;
    }
}
