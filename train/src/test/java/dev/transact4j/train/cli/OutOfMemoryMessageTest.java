package dev.transact4j.train.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.LlamaForCausalLM;
import dev.transact4j.nn.safetensors.DType;
import dev.transact4j.train.pipeline.CorpusData;
import dev.transact4j.train.pipeline.DemoRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A command that runs out of heap ends with one line that names the fix, not a stack trace. */
class OutOfMemoryMessageTest {

    @TempDir
    Path dir;

    @Test
    void heapTooSmallForModel() throws Exception {
        // more than 20 MB of float32 weights, loaded by a JVM with a 16 MiB heap
        Map<String, Path> files = CorpusData.writeDemoTokenizer(dir.resolve("tokenizer"));
        LlamaConfig config = DemoRunner.config("demo").toBuilder().hiddenSize(256).numHiddenLayers(4)
                .numAttentionHeads(4).numKeyValueHeads(4).intermediateSize(688).maxPositionEmbeddings(128).build();
        Path modelDir = dir.resolve("model");
        DemoRunner.withTokenizer(LlamaForCausalLM.initialize(config, 3), files).save(modelDir, DType.F32);

        Path log = dir.resolve("child.log");
        Process child = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx16m",
                "-cp", System.getProperty("java.class.path"), TransactCommand.class.getName(),
                "generate", "--model", modelDir.toString(), "--max-new-tokens", "1", "The"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child did not finish within 120 s");
        String output = Files.readString(log);

        assertEquals(1, child.exitValue(), output);
        assertTrue(output.contains("transact: out of Java heap memory (maximum heap"), output);
        assertTrue(output.contains("JAVA_OPTS=-Xmx8g"), output);
        assertFalse(output.contains("\tat "), "stack trace printed:\n" + output);
    }
}
