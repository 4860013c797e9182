package dev.transact4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.ModelStats;
import java.util.List;
import org.junit.jupiter.api.Test;

class InferenceBenchTest {

    @Test
    void parseReadsEveryOption() {
        InferenceBench.Options options = InferenceBench.parse(new String[] {
            "--configs", "small", "--threads", "2,1", "--prompt", "17", "--decode", "3", "--warmup", "0",
            "--warmup-seconds", "4",
            "--repeats", "5", "--profile"});

        assertEquals(List.of("small"), options.configs());
        assertArrayEquals(new int[] {2, 1}, options.threads());
        assertEquals(17, options.prompt());
        assertEquals(3, options.decode());
        assertEquals(0, options.warmup());
        assertEquals(4, options.warmupSeconds());
        assertEquals(5, options.repeats());
        assertTrue(options.profile());
    }

    @Test
    void parseRejectsBadValues() {
        IllegalArgumentException config = assertThrows(IllegalArgumentException.class,
                () -> InferenceBench.parse(new String[] {"--configs", "tiny,huge"}));
        assertTrue(config.getMessage().contains("'huge'"), config.getMessage());

        IllegalArgumentException threads = assertThrows(IllegalArgumentException.class,
                () -> InferenceBench.parse(new String[] {"--threads", "0"}));
        assertTrue(threads.getMessage().contains("--threads value 0"), threads.getMessage());

        IllegalArgumentException prompt = assertThrows(IllegalArgumentException.class,
                () -> InferenceBench.parse(new String[] {"--prompt", "many"}));
        assertTrue(prompt.getMessage().contains("'many'"), prompt.getMessage());

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> InferenceBench.parse(new String[] {"--decode"}));
        assertTrue(missing.getMessage().contains("--decode needs a value"), missing.getMessage());
    }

    @Test
    void measureWritesOneJsonLine() throws Exception {
        InferenceBench.Options options = InferenceBench.parse(new String[] {
            "--prompt", "17", "--decode", "3", "--warmup", "0", "--warmup-seconds", "0", "--repeats", "1", "--profile"});

        JsonNode line = new ObjectMapper().readTree(InferenceBench.measure("tiny", LlamaConfig.tiny(), 1, options,
                new InferenceBench.Bandwidth(12.5, 14.0)));

        ModelStats stats = ModelStats.of(LlamaConfig.tiny());
        assertEquals("tiny", line.get("config").asText());
        assertEquals(17, line.get("prompt").asInt());
        assertEquals(3, line.get("decode").asInt());
        assertEquals(12.5, line.get("copy_gb_per_second").asDouble());
        assertEquals(14.0, line.get("copy_gb_per_cpu_second").asDouble());
        assertTrue(line.get("timed_start_epoch_ms").asLong() <= System.currentTimeMillis(), line.toString());
        assertEquals(stats.weightBytes(), line.get("weight_bytes").asLong());
        assertEquals(8192L * 256 * 4, line.get("embedding_bytes").asLong());
        assertEquals(256, line.get("hidden_size").asInt());
        assertTrue(line.get("prefill_tokens_per_second").asDouble() > 0, line.toString());
        assertTrue(line.get("decode_tokens_per_second").asDouble() > 0, line.toString());
        assertTrue(line.get("decode_tokens_per_cpu_second").asDouble() > 0, line.toString());
        assertTrue(line.get("prefill_tokens_per_cpu_second").asDouble() > 0, line.toString());
        assertTrue(line.get("projections_seconds_per_token").asDouble() > 0, line.toString());
    }
}
