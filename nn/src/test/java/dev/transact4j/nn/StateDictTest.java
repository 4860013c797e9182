package dev.transact4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.nn.safetensors.SafeTensorsFile;
import dev.transact4j.nn.safetensors.SafeTensorsWriter;
import dev.transact4j.tensor.HalfFloats;
import dev.transact4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictTest {

    @TempDir
    Path dir;

    private static TinyModels.LanguageModel model(long seed) {
        TinyModels.LanguageModel lm = new TinyModels.LanguageModel(17, 15, 33, 2);
        Initialization.llama(lm, 0.3, seed);
        return lm;
    }

    @Test
    void strictLoadListsEveryProblem() {
        TinyModels.LanguageModel lm = model(1);
        Map<String, Tensor> state = new LinkedHashMap<>(model(2).stateDict());
        state.remove("model.norm.weight");
        state.remove("model.layers.1.mlp.up_proj.weight");
        state.put("model.layers.0.self_attn.rotary_emb.inv_freq", Tensor.zeros(8));
        state.put("lm_head.bias", Tensor.zeros(17));
        state.put("model.layers.0.mlp.gate_proj.weight", Tensor.zeros(32, 15));
        float[] before = lm.model.layers.get(0).mlp.downProj().weight().data().clone();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lm.loadStateDict(state, true));
        String message = e.getMessage();
        for (String expected : List.of("2 missing keys", "model.norm.weight", "model.layers.1.mlp.up_proj.weight",
                "2 unexpected keys", "model.layers.0.self_attn.rotary_emb.inv_freq", "lm_head.bias",
                "1 shape mismatches", "model.layers.0.mlp.gate_proj.weight: checkpoint [32, 15], model [33, 15]")) {
            assertTrue(message.contains(expected), "message lacks '" + expected + "':\n" + message);
        }
        // nothing was copied
        assertArrayEquals(before, lm.model.layers.get(0).mlp.downProj().weight().data());
    }

    @Test
    void lenientLoadReturnsSkippedKeys() {
        TinyModels.LanguageModel lm = model(1);
        TinyModels.LanguageModel source = model(2);
        Map<String, Tensor> state = new LinkedHashMap<>(source.stateDict());
        state.remove("model.norm.weight");
        state.put("extra", Tensor.zeros(1));
        Module.LoadResult result = lm.loadStateDict(state, false);
        assertEquals(List.of("model.norm.weight"), result.missingKeys());
        assertEquals(List.of("extra"), result.unexpectedKeys());
        assertArrayEquals(source.lmHead.weight().data(), lm.lmHead.weight().data());

        state.put("lm_head.weight", Tensor.zeros(3, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lm.loadStateDict(state, false));
        assertTrue(e.getMessage().contains("lm_head.weight: checkpoint [3, 3], model [17, 15]"), e.getMessage());
        assertTrue(!e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void tiedWeightLoadsFromEitherName() {
        TinyModels.LanguageModel source = model(6);
        Map<String, Tensor> state = new LinkedHashMap<>(source.stateDict());
        state.remove("lm_head.weight");
        TinyModels.LanguageModel tied = model(7);
        tied.lmHead.tieWeight(tied.model.embedTokens.weight());
        assertEquals(List.of(), tied.loadStateDict(state, true).missingKeys());
        assertArrayEquals(source.model.embedTokens.weight().data(), tied.lmHead.weight().data());

        TinyModels.LanguageModel untied = model(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> untied.loadStateDict(state, true));
        assertTrue(e.getMessage().contains("1 missing keys:\n    lm_head.weight"), e.getMessage());
    }

    @Test
    void float32RoundTripIsBitwise() throws IOException {
        TinyModels.LanguageModel saved = model(3);
        Path file = dir.resolve("model.safetensors");
        StateDicts.save(saved, file, DType.F32);

        TinyModels.LanguageModel loaded = model(4);
        StateDicts.loadInto(loaded, dir, true);
        Map<String, Tensor> expected = saved.stateDict();
        Map<String, Tensor> actual = loaded.stateDict();
        for (String name : expected.keySet()) {
            float[] a = expected.get(name).toArray();
            float[] b = actual.get(name).toArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), name + " element " + i);
            }
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals("pt", f.metadata().get("format"));
            assertEquals(DType.F32, f.info("lm_head.weight").dtype());
        }
    }

    @Test
    void shardedCheckpointRoundTrip() throws IOException {
        TinyModels.LanguageModel saved = model(9);
        Path index = StateDicts.saveSharded(saved.stateDict(), dir, DType.F32, 4096);
        assertEquals(dir.resolve("model.safetensors.index.json"), index);
        long shards;
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
            shards = files.filter(f -> f.getFileName().toString().startsWith("model-")).count();
        }
        // the model has 5355 floats (21420 bytes), so shards of 4096 bytes make at least six
        assertTrue(shards >= 6, "expected at least six shards, found " + shards);

        TinyModels.LanguageModel loaded = model(10);
        StateDicts.loadInto(loaded, dir, true);
        for (Map.Entry<String, Tensor> e : saved.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toArray(), loaded.stateDict().get(e.getKey()).toArray(), e.getKey());
        }
    }

    @Test
    void bfloat16SaveLoadsRoundedValues() throws IOException {
        TinyModels.LanguageModel saved = model(5);
        Path file = dir.resolve("bf16.safetensors");
        StateDicts.save(saved, file, DType.BF16);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(DType.BF16, f.info("model.embed_tokens.weight").dtype());
        }
        Map<String, Tensor> loaded = StateDicts.load(file);
        int changed = 0;
        for (Map.Entry<String, Tensor> e : saved.stateDict().entrySet()) {
            float[] original = e.getValue().toArray();
            float[] roundTrip = loaded.get(e.getKey()).toArray();
            assertArrayEquals(e.getValue().shape(), loaded.get(e.getKey()).shape(), e.getKey());
            for (int i = 0; i < original.length; i++) {
                float rounded = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(original[i]));
                assertEquals(rounded, roundTrip[i], e.getKey() + " element " + i);
                // bf16 keeps 8 significant bits: rounding moves a value by at most 2^-8 of it
                assertEquals(original[i], roundTrip[i], Math.abs(original[i]) * 0x1p-8f);
                if (rounded != original[i]) {
                    changed++;
                }
            }
        }
        assertTrue(changed > 0, "random weights should not all be representable in bfloat16");
    }

    @Test
    void integerTensorRejectedByName() throws IOException {
        Path file = dir.resolve("ints.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1, 2}, new int[] {2}).addInts("ids", new int[] {1}, new int[] {1})
                .write(file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(file));
        assertTrue(e.getMessage().contains("'ids'"), e.getMessage());
        assertTrue(e.getMessage().contains("ints.safetensors"), e.getMessage());
    }

    @Test
    void loadIntoNamesTheCheckpoint() throws IOException {
        Path file = dir.resolve("small.safetensors");
        StateDicts.save(new Linear(3, 2, false), file, DType.F32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateDicts.loadInto(new Linear(3, 2, true), file, true));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
    }
}
