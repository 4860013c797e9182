package dev.transact4j.llama;

import dev.transact4j.llama.checkpoint.LlamaCheckpoint;
import dev.transact4j.tensor.testing.Fixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

/**
 * The Llama fixtures written by {@code src/test/python/make_llama_fixtures.py}: for each config a
 * Hugging Face directory ({@code config.json}, {@code model.safetensors}) and a reference with
 * {@code input_ids} and {@code labels} {@code [2, 70]}, the float64 logits and loss, and
 * {@code grad.<name>} of every parameter.
 */
final class LlamaFixtures {

    /** Every fixture config. */
    static final List<String> NAMES = List.of("mha", "gqa", "tied", "rope_linear", "rope_llama3", "bias", "head_dim",
            "bf16", "rope_keep");

    static final int BATCH = 2;
    static final int SEQ_LEN = 70;

    private LlamaFixtures() {
    }

    /** Returns the model directory of fixture {@code name} on the test class path. */
    static Path directory(String name) {
        String resource = "fixtures/llama/" + name + "/config.json";
        URL url = LlamaFixtures.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException(resource + " not found on the test class path; regenerate it with "
                    + "/usr/bin/python3 src/test/python/make_llama_fixtures.py");
        }
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("invalid resource URL " + url, e);
        }
    }

    /** Returns the reference arrays of fixture {@code name}. */
    static Fixture reference(String name) {
        return Fixture.load("llama/" + name + "/reference");
    }

    /** Loads the model of fixture {@code name}. */
    static LlamaCheckpoint.Loaded load(String name) {
        try {
            return LlamaCheckpoint.load(directory(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns max |actual - expected| / max |expected|. */
    static double relativeError(float[] actual, double[] expected) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException(actual.length + " values compared with " + expected.length);
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < actual.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        if (maxRef == 0) {
            throw new IllegalArgumentException("the reference is all zeros, so a relative error is undefined");
        }
        return maxDiff / maxRef;
    }
}
