package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.transact4j.nn.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE tokenizer in the style of Llama 3 and writes it as a Hugging Face
 * tokenizer.json.
 *
 * <p>The text is NFC-normalized and split into words with the Llama 3 pre-tokenization regex;
 * each word becomes its UTF-8 bytes (shown through the GPT-2 byte table). The vocabulary starts
 * with the special tokens, then the 256 bytes in byte order, so every text can be encoded. Then,
 * until the vocabulary reaches the requested size, the most frequent adjacent pair of tokens
 * (counted over all word occurrences) is merged into a new token. Ties go to the pair with the
 * smaller left id, then the smaller right id, so the result depends only on the input and the
 * options. Pairs seen fewer than {@code minFrequency} times are never merged, so training can
 * end below the requested size on a small corpus.
 */
public final class BpeTrainer {
    /** The pre-tokenization regex of Llama 3 (as in its tokenizer.json). */
    public static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * Training options.
     *
     * @param vocabSize     total number of tokens, special tokens and the 256 bytes included
     * @param specialTokens special tokens, given ids 0, 1, ... in this order
     * @param bosToken      special token the post-processor puts before every text, or null for none
     * @param eosToken      end-of-text token written to tokenizer_config.json, or null
     * @param padToken      padding token written to tokenizer_config.json, or null
     * @param minFrequency  minimum number of occurrences for a pair to be merged
     */
    public record Options(int vocabSize, List<String> specialTokens, String bosToken, String eosToken,
                          String padToken, int minFrequency) {
        public Options {
            specialTokens = List.copyOf(specialTokens);
            if (new HashSet<>(specialTokens).size() != specialTokens.size()) {
                throw new IllegalArgumentException("special tokens contain a duplicate: " + specialTokens);
            }
            for (String token : specialTokens) {
                if (token.isEmpty()) {
                    throw new IllegalArgumentException("special tokens must not be empty: " + specialTokens);
                }
            }
            for (String token : Arrays.asList(bosToken, eosToken, padToken)) {
                if (token != null && !specialTokens.contains(token)) {
                    throw new IllegalArgumentException("token '" + token + "' must be one of the special tokens "
                            + specialTokens);
                }
            }
            int minimum = specialTokens.size() + 256;
            if (vocabSize < minimum) {
                throw new IllegalArgumentException("vocabulary size " + vocabSize + " is below the " + minimum
                        + " tokens of the special tokens and the 256 bytes");
            }
            if (minFrequency < 1) {
                throw new IllegalArgumentException("minimum pair frequency must be at least 1, got " + minFrequency);
            }
        }

        /** Llama 3 style special tokens: {@code <|begin_of_text|>} (BOS), {@code <|end_of_text|>} (EOS), {@code <|pad|>}. */
        public static Options llama3Style(int vocabSize) {
            return new Options(vocabSize, List.of("<|begin_of_text|>", "<|end_of_text|>", "<|pad|>"),
                    "<|begin_of_text|>", "<|end_of_text|>", "<|pad|>", 2);
        }
    }

    /** Receives progress: the stage ("count" over texts, "merge" over merges), work done and total. */
    @FunctionalInterface
    public interface Progress {
        void update(String stage, long done, long total);

        Progress NONE = (stage, done, total) -> { };
    }

    /** A trained tokenizer: the vocabulary in id order and the merges in rank order. */
    public record Result(Options options, List<String> vocab, List<String[]> merges) {
        /** Builds the tokenizer.json tree. */
        public ObjectNode toJson() {
            return BpeTrainer.toJson(this);
        }

        /**
         * Writes tokenizer.json and tokenizer_config.json into {@code directory}, each through a
         * temporary file renamed into place.
         */
        public void write(Path directory) throws IOException {
            Files.createDirectories(directory);
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            AtomicFiles.write(directory.resolve("tokenizer.json"), jsonLine(mapper.writeValueAsString(toJson())));
            AtomicFiles.write(directory.resolve("tokenizer_config.json"),
                    jsonLine(mapper.writeValueAsString(configJson(this))));
        }
    }

    private BpeTrainer() {
    }

    /** Trains on {@code texts}; each text is pre-tokenized on its own. */
    public static Result train(List<String> texts, Options options, Progress progress) {
        Objects.requireNonNull(progress, "progress");

        // 1. count the words of all texts
        Pattern pattern = Pattern.compile(LLAMA3_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
        Map<String, long[]> wordCounts = new HashMap<>();
        for (int t = 0; t < texts.size(); t++) {
            String text = java.text.Normalizer.normalize(texts.get(t), java.text.Normalizer.Form.NFC);
            Matcher m = pattern.matcher(text);
            while (m.find()) {
                wordCounts.computeIfAbsent(text.substring(m.start(), m.end()), w -> new long[1])[0]++;
            }
            if ((t & 1023) == 0 || t == texts.size() - 1) {
                progress.update("count", t + 1, texts.size());
            }
        }

        // 2. the initial vocabulary: special tokens, then one token per byte
        List<String> vocab = new ArrayList<>(options.specialTokens());
        int firstByte = vocab.size();
        for (int b = 0; b < 256; b++) {
            vocab.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
        }

        // words in sorted order as byte-token ids, so that ids and ties do not depend on hashing
        TreeMap<String, long[]> sorted = new TreeMap<>(wordCounts);
        int[][] words = new int[sorted.size()][];
        long[] counts = new long[sorted.size()];
        int w = 0;
        for (Map.Entry<String, long[]> e : sorted.entrySet()) {
            byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] symbols = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                symbols[i] = firstByte + (bytes[i] & 0xFF);
            }
            words[w] = symbols;
            counts[w] = e.getValue()[0];
            w++;
        }

        // 3. count pairs and remember which words contain each pair
        Map<Long, long[]> pairCounts = new HashMap<>();
        Map<Long, Set<Integer>> pairWords = new HashMap<>();
        for (int i = 0; i < words.length; i++) {
            int[] s = words[i];
            for (int k = 0; k + 1 < s.length; k++) {
                long pair = pair(s[k], s[k + 1]);
                pairCounts.computeIfAbsent(pair, p -> new long[1])[0] += counts[i];
                pairWords.computeIfAbsent(pair, p -> new HashSet<>()).add(i);
            }
        }
        PriorityQueue<long[]> queue = new PriorityQueue<>(BpeTrainer::compareCandidates);
        for (Map.Entry<Long, long[]> e : pairCounts.entrySet()) {
            queue.add(new long[] {e.getValue()[0], e.getKey()});
        }

        // 4. merge the most frequent pair until the vocabulary is full
        List<String[]> merges = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            ids.put(vocab.get(i), i);
        }
        int initial = vocab.size();
        int target = options.vocabSize() - initial;
        while (vocab.size() < options.vocabSize() && !queue.isEmpty()) {
            long[] top = queue.poll();
            long pair = top[1];
            long current = pairCounts.getOrDefault(pair, new long[1])[0];
            if (current != top[0]) {
                // a stale entry: the count changed after it was queued
                if (current > 0) {
                    queue.add(new long[] {current, pair});
                }
                continue;
            }
            if (current < options.minFrequency()) {
                break;
            }
            int left = (int) (pair >>> 32);
            int right = (int) pair;
            // two merge paths can spell the same token (a+bc, ab+c): it keeps its first id
            String token = vocab.get(left) + vocab.get(right);
            Integer existing = ids.get(token);
            int merged = existing != null ? existing : vocab.size();
            if (existing == null) {
                vocab.add(token);
                ids.put(token, merged);
            }
            merges.add(new String[] {vocab.get(left), vocab.get(right)});

            Set<Long> changed = new LinkedHashSet<>();
            Set<Integer> containing = pairWords.remove(pair);
            Integer[] indices = containing.toArray(new Integer[0]);
            Arrays.sort(indices);
            for (int index : indices) {
                words[index] = mergeWord(words[index], left, right, merged, counts[index], index,
                        pairCounts, pairWords, changed);
            }
            pairCounts.remove(pair);
            for (long p : changed) {
                long[] c = pairCounts.get(p);
                if (c != null && c[0] > 0) {
                    queue.add(new long[] {c[0], p});
                }
            }
            progress.update("merge", vocab.size() - initial, target);
        }
        return new Result(options, List.copyOf(vocab), List.copyOf(merges));
    }

    /** Orders candidates by count (descending), then left id, then right id (ascending). */
    private static int compareCandidates(long[] a, long[] b) {
        if (a[0] != b[0]) {
            return Long.compare(b[0], a[0]);
        }
        return Long.compare(a[1], b[1]);
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /**
     * Replaces every non-overlapping (left, right) in {@code symbols}, scanning left to right, and
     * updates the pair counts and word sets of the pairs it removes and creates.
     */
    private static int[] mergeWord(int[] symbols, int left, int right, int merged, long count, int index,
                                   Map<Long, long[]> pairCounts, Map<Long, Set<Integer>> pairWords,
                                   Set<Long> changed) {
        int[] out = new int[symbols.length];
        int n = 0;
        int k = 0;
        while (k < symbols.length) {
            if (k + 1 < symbols.length && symbols[k] == left && symbols[k + 1] == right) {
                out[n++] = merged;
                k += 2;
            } else {
                out[n++] = symbols[k++];
            }
        }
        int[] result = Arrays.copyOf(out, n);

        // subtract the old pairs and add the new ones; pairs in both cancel out
        for (int i = 0; i + 1 < symbols.length; i++) {
            long p = pair(symbols[i], symbols[i + 1]);
            pairCounts.computeIfAbsent(p, x -> new long[1])[0] -= count;
            changed.add(p);
        }
        for (int i = 0; i + 1 < result.length; i++) {
            long p = pair(result[i], result[i + 1]);
            pairCounts.computeIfAbsent(p, x -> new long[1])[0] += count;
            changed.add(p);
        }
        for (int i = 0; i + 1 < result.length; i++) {
            if (result[i] == merged || result[i + 1] == merged) {
                pairWords.computeIfAbsent(pair(result[i], result[i + 1]), x -> new HashSet<>()).add(index);
            }
        }
        return result;
    }

    static ObjectNode toJson(Result result) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        Options options = result.options();
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");

        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < options.specialTokens().size(); i++) {
            added.addObject()
                    .put("id", i)
                    .put("content", options.specialTokens().get(i))
                    .put("single_word", false)
                    .put("lstrip", false)
                    .put("rstrip", false)
                    .put("normalized", false)
                    .put("special", true);
        }

        root.putObject("normalizer").put("type", "NFC");

        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", LLAMA3_PATTERN);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        steps.addObject()
                .put("type", "ByteLevel")
                .put("add_prefix_space", false)
                .put("trim_offsets", true)
                .put("use_regex", false);

        if (options.bosToken() != null) {
            int bos = options.specialTokens().indexOf(options.bosToken());
            ObjectNode post = root.putObject("post_processor");
            post.put("type", "TemplateProcessing");
            ArrayNode single = post.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", options.bosToken()).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pairTemplate = post.putArray("pair");
            pairTemplate.addObject().putObject("SpecialToken").put("id", options.bosToken()).put("type_id", 0);
            pairTemplate.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pairTemplate.addObject().putObject("SpecialToken").put("id", options.bosToken()).put("type_id", 1);
            pairTemplate.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode special = post.putObject("special_tokens").putObject(options.bosToken());
            special.put("id", options.bosToken());
            special.putArray("ids").add(bos);
            special.putArray("tokens").add(options.bosToken());
        } else {
            root.putNull("post_processor");
        }

        root.putObject("decoder")
                .put("type", "ByteLevel")
                .put("add_prefix_space", true)
                .put("trim_offsets", true)
                .put("use_regex", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < result.vocab().size(); i++) {
            vocab.put(result.vocab().get(i), i);
        }
        ArrayNode merges = model.putArray("merges");
        for (String[] m : result.merges()) {
            merges.addArray().add(m[0]).add(m[1]);
        }
        return root;
    }

    static ObjectNode configJson(Result result) {
        Options options = result.options();
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("add_bos_token", options.bosToken() != null);
        config.put("add_eos_token", false);
        putOrNull(config, "bos_token", options.bosToken());
        putOrNull(config, "eos_token", options.eosToken());
        putOrNull(config, "pad_token", options.padToken());
        config.putNull("unk_token");
        config.put("clean_up_tokenization_spaces", false);
        ObjectNode decoder = config.putObject("added_tokens_decoder");
        for (int i = 0; i < options.specialTokens().size(); i++) {
            decoder.putObject(String.valueOf(i))
                    .put("content", options.specialTokens().get(i))
                    .put("lstrip", false)
                    .put("normalized", false)
                    .put("rstrip", false)
                    .put("single_word", false)
                    .put("special", true);
        }
        return config;
    }

    private static void putOrNull(ObjectNode node, String field, String value) {
        if (value == null) {
            node.putNull(field);
        } else {
            node.put(field, value);
        }
    }

    /** Returns {@code json} and a final newline as UTF-8 bytes. */
    private static byte[] jsonLine(String json) {
        return (json + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
