package dev.transact4j.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ModelStatsTest {

    private static LlamaConfig resource(String name) throws IOException {
        try (InputStream in = ModelStatsTest.class.getClassLoader().getResourceAsStream("configs/" + name + ".json")) {
            assertTrue(in != null, "missing test resource configs/" + name + ".json");
            return LlamaConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), name);
        }
    }

    @Test
    void tinyPresetCounts() {
        ModelStats stats = ModelStats.of(LlamaConfig.tiny());
        long embedding = 8192L * 256;
        long layer = 4L * 256 * 256 + 3L * 256 * 688 + 2 * 256;

        assertEquals(embedding, stats.embeddingParameters());
        assertEquals(embedding, stats.lmHeadParameters());
        assertEquals(256, stats.finalNormParameters());
        assertEquals(4, stats.layers().size());
        assertEquals(layer, stats.layers().get(3).parameters());
        assertEquals(4 * layer, stats.layerParameters());
        assertEquals(2 * embedding + 4 * layer + 256, stats.totalParameters());
        assertEquals(7_358_720L, stats.totalParameters());
    }

    @Test
    void smallPresetCounts() {
        ModelStats stats = ModelStats.of(LlamaConfig.small());
        long embedding = 8192L * 512;
        long layer = 4L * 512 * 512 + 3L * 512 * 1376 + 2 * 512;

        assertEquals(2 * embedding + 8 * layer + 512, stats.totalParameters());
        assertEquals(33_694_208L, stats.totalParameters());
    }

    @Test
    void publishedParameterCounts() throws IOException {
        assertEquals(6_738_415_616L, ModelStats.of(resource("llama-2-7b")).totalParameters(), "Llama-2-7B");
        assertEquals(1_100_048_384L, ModelStats.of(resource("tinyllama-1.1b")).totalParameters(), "TinyLlama-1.1B");
        assertEquals(8_030_261_248L, ModelStats.of(resource("llama-3.1-8b-instruct")).totalParameters(), "Llama-3.1-8B");
        assertEquals(134_515_008L, ModelStats.of(resource("smollm-135m")).totalParameters(), "SmolLM-135M, tied");
        assertEquals(1_235_814_400L, ModelStats.of(resource("llama-3.2-1b-transformers5")).totalParameters(),
                "Llama-3.2-1B, tied");
    }

    @Test
    void groupedQueryAttentionShrinksKeyValue() throws IOException {
        ModelStats.LayerStats layer = ModelStats.of(resource("tinyllama-1.1b")).layers().get(0);

        assertEquals(2048L * 2048, layer.query());
        assertEquals(2048L * 256, layer.key());
        assertEquals(2048L * 256, layer.value());
        assertEquals(2048L * 2048, layer.output());
        assertEquals(3L * 2048 * 5632, layer.mlpParameters());
        assertEquals(2 * 2048, layer.norms());
    }

    @Test
    void biasesAreCounted() {
        LlamaConfig plain = LlamaConfig.tiny();
        LlamaConfig biased = plain.toBuilder().attentionBias(true).mlpBias(true).build();
        ModelStats.LayerStats a = ModelStats.of(plain).layers().get(0);
        ModelStats.LayerStats b = ModelStats.of(biased).layers().get(0);

        assertEquals(a.query() + 256, b.query());
        assertEquals(a.key() + 256, b.key());
        assertEquals(a.value() + 256, b.value());
        assertEquals(a.output() + 256, b.output());
        assertEquals(a.gate() + 688, b.gate());
        assertEquals(a.up() + 688, b.up());
        assertEquals(a.down() + 256, b.down());
        assertEquals(ModelStats.of(plain).forwardFlopsPerToken(64), ModelStats.of(biased).forwardFlopsPerToken(64),
                "biases are not counted as FLOPs");
    }

    @Test
    void prunedAttentionUsesInnerWidth() {
        LlamaConfig pruned = LlamaConfig.tiny().withAttentionHeads(6, 2, 16).withIntermediateSize(300);
        ModelStats.LayerStats layer = ModelStats.of(pruned).layers().get(1);

        assertEquals(96, layer.attentionWidth());
        assertEquals(256L * 96, layer.query());
        assertEquals(256L * 32, layer.key());
        assertEquals(256L * 32, layer.value());
        assertEquals(96L * 256, layer.output());
        assertEquals(3L * 256 * 300, layer.mlpParameters());
        assertEquals(2L * 4 * 2 * 16 * 4, ModelStats.of(pruned).kvCacheBytesPerToken());
    }

    @Test
    void forwardFlopsFollowConvention() {
        ModelStats stats = ModelStats.of(LlamaConfig.tiny());
        long matmul = 4L * (4 * 256 * 256 + 3 * 256 * 688) + 8192L * 256;
        long attention = 4L * (4L * 128 * 256);

        assertEquals(2 * matmul + attention, stats.forwardFlopsPerToken(128));
        assertEquals(2 * matmul + 4L * (4L * 1 * 256), stats.forwardFlopsPerToken(1));
    }

    @Test
    void tiedHeadStillCostsFlops() throws IOException {
        ModelStats stats = ModelStats.of(resource("smollm-135m"));
        long layerWeights = 576L * 576 * 2 + 576L * 192 * 2 + 3L * 576 * 1536;
        long expected = 2 * (30 * layerWeights + 49152L * 576) + 30 * 4L * 2048 * 576;

        assertEquals(expected, stats.forwardFlopsPerToken(2048));
    }

    @Test
    void kvCacheAndWeightBytes() throws IOException {
        assertEquals(2L * 4 * 8 * 32 * 4, ModelStats.of(LlamaConfig.tiny()).kvCacheBytesPerToken());
        ModelStats llama3 = ModelStats.of(resource("llama-3.1-8b-instruct"));
        assertEquals(128 * 1024, llama3.kvCacheBytesPerToken(ModelStats.bytesPerElement("bfloat16")));
        ModelStats llama2 = ModelStats.of(resource("llama-2-7b"));
        assertEquals(512 * 1024, llama2.kvCacheBytesPerToken(2));

        assertEquals(7_358_720L * 4, ModelStats.of(LlamaConfig.tiny()).weightBytes());
        assertEquals(6_738_415_616L * 2, llama2.weightBytes(ModelStats.bytesPerElement(llama2.config().torchDtype())));
    }

    @Test
    void invalidArgumentsAreRejected() {
        ModelStats stats = ModelStats.of(LlamaConfig.tiny());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> stats.forwardFlopsPerToken(0));
        assertTrue(e.getMessage().contains("context length 0 must be positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> stats.kvCacheBytesPerToken(0));
        assertTrue(e.getMessage().contains("bytes per element 0 must be positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelStats.bytesPerElement("int8"));
        assertTrue(e.getMessage().contains("unknown torch_dtype 'int8'"), e.getMessage());
    }

    @Test
    void summaryNamesTotals() {
        assertEquals("7,358,720 parameters (2,097,152 embedding, 3,164,160 in 4 layers, 2,097,152 lm_head)",
                ModelStats.of(LlamaConfig.tiny()).toString());
    }
}
