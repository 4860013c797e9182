package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.nn.io.JsonErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * A tokenizer read from a Hugging Face tokenizer.json, producing the same ids as the Rust
 * {@code tokenizers} library for the BPE model families of Llama 2, Mistral and TinyLlama
 * (SentencePiece style, byte fallback) and of GPT-2, Llama 3 and Qwen (byte-level).
 *
 * <p>Encoding runs as in Hugging Face: added tokens that match the input text are cut out first;
 * the pieces between them are normalized, searched for added tokens that match normalized text,
 * pre-tokenized into words, and each word is split by the BPE model. The post-processor then adds
 * the template's special tokens when requested.
 *
 * <p>Instances are immutable apart from an internal word cache and safe to share between threads.
 * NOTE: the {@code truncation} and {@code padding} sections of the file are ignored, so encode
 * always returns every token. tokenizer_config.json is not read either: the template in
 * tokenizer.json alone decides which special tokens are added, as in the Rust library (the Python
 * {@code transformers} wrappers can rewrite that template from {@code add_bos_token} and
 * {@code add_eos_token}).
 */
public final class Tokenizer {
    private final String source;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final PostProcessor postProcessor;
    private final Decoders.Decoder decoder;
    private final AddedVocabulary rawAdded = new AddedVocabulary();
    private final AddedVocabulary normalizedAdded = new AddedVocabulary();
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final Map<String, AddedToken> addedByContent = new HashMap<>();
    private final Set<Integer> specialIds = new HashSet<>();
    private final int vocabSize;

    private Tokenizer(JsonNode root, String source) {
        this.source = source;
        JsonReader json = new JsonReader(source);
        if (!root.isObject()) {
            throw json.error("$", "expected a JSON object");
        }
        normalizer = root.hasNonNull("normalizer") ? Normalizers.parse(json, root.get("normalizer"), "$.normalizer") : null;
        preTokenizer = root.hasNonNull("pre_tokenizer")
                ? PreTokenizers.parse(json, root.get("pre_tokenizer"), "$.pre_tokenizer") : null;
        model = BpeModel.parse(json, json.required(root, "model", "$"), "$.model");
        postProcessor = root.hasNonNull("post_processor")
                ? PostProcessor.parse(json, root.get("post_processor"), "$.post_processor") : PostProcessor.NONE;
        decoder = root.hasNonNull("decoder") ? Decoders.parse(json, root.get("decoder"), "$.decoder") : null;

        int size = model.size();
        JsonNode added = root.path("added_tokens");
        for (int i = 0; i < added.size(); i++) {
            JsonNode t = added.get(i);
            String path = "$.added_tokens[" + i + "]";
            json.required(t, "id", path);
            String content = json.text(t, "content", path);
            AddedToken token = new AddedToken(assignAddedId(content), content,
                    json.bool(t, "lstrip", false), json.bool(t, "rstrip", false),
                    json.bool(t, "single_word", false), json.bool(t, "normalized", false),
                    json.bool(t, "special", false));
            addedById.put(token.id(), token);
            addedByContent.put(token.content(), token);
            if (token.special()) {
                specialIds.add(token.id());
            }
            if (token.normalized()) {
                // matched against normalized text, so the pattern is the normalized content
                String pattern = normalizer == null ? content
                        : normalizer.normalize(Segment.ofOriginal(content, 0, content.length())).text;
                normalizedAdded.add(token, pattern);
            } else {
                rawAdded.add(token, content);
            }
            size = Math.max(size, token.id() + 1);
        }
        vocabSize = size;
    }

    /**
     * Returns the id Hugging Face gives an added token, which is not necessarily the {@code id}
     * written in the file: a token in the model vocabulary keeps its model id, an already added
     * token keeps its id, and a new one gets the next id after the model vocabulary and the
     * tokens added before it (in file order). In files written by Hugging Face the two agree.
     */
    private int assignAddedId(String content) {
        Integer modelId = model.vocab.get(content);
        if (modelId != null) {
            return modelId;
        }
        AddedToken existing = addedByContent.get(content);
        if (existing != null) {
            return existing.id();
        }
        int next = model.size();
        for (AddedToken t : addedById.values()) {
            if (t.id() >= model.size()) {
                next = Math.max(next, t.id() + 1);
            }
        }
        return next;
    }

    /**
     * Reads a tokenizer from a tokenizer.json file, a gzip-compressed one (name ending in .gz),
     * or a directory containing tokenizer.json.
     *
     * @throws NoSuchFileException when there is no such file
     * @throws TokenizerFormatException when the file is malformed or uses an unsupported component
     */
    public static Tokenizer load(Path fileOrDirectory) throws IOException {
        Path file = fileOrDirectory;
        if (Files.isDirectory(file)) {
            file = file.resolve("tokenizer.json");
            if (!Files.exists(file) && Files.exists(fileOrDirectory.resolve("tokenizer.json.gz"))) {
                file = fileOrDirectory.resolve("tokenizer.json.gz");
            }
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "tokenizer file not found");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(file.toString().endsWith(".gz") ? new GZIPInputStream(in) : in, file.toString());
        }
    }

    /** Reads a tokenizer.json from a stream; {@code source} names it in error messages. */
    public static Tokenizer read(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new TokenizerFormatException(source + ": invalid JSON" + JsonErrors.locationAndReason(e)
                    + ". Fix the file or restore it from the model's source.", e);
        }
        if (root == null) {
            throw new TokenizerFormatException(source + ": empty file");
        }
        return new Tokenizer(root, source);
    }

    /** Encodes {@code text}, matching special-token text as special tokens. */
    public Encoding encode(String text, boolean addSpecialTokens) {
        return encode(text, addSpecialTokens, false);
    }

    /** Returns the ids of {@link #encode(String, boolean)}. */
    public int[] encodeIds(String text, boolean addSpecialTokens) {
        return encode(text, addSpecialTokens, false).ids();
    }

    /**
     * Encodes {@code text}.
     *
     * @param addSpecialTokens    add the post-processor's tokens, such as the BOS token
     * @param specialTokensAsText encode the text of special tokens (such as "&lt;s&gt;") as plain
     *                            text instead of as the special token; non-special added tokens
     *                            still match
     */
    public Encoding encode(String text, boolean addSpecialTokens, boolean specialTokensAsText) {
        IntList ids = new IntList();
        IntList offsets = new IntList();
        List<String> tokens = new ArrayList<>();
        // 1. added tokens matched on the input text
        for (AddedVocabulary.Split raw : rawAdded.find(text, specialTokensAsText)) {
            if (raw.token() != null) {
                ids.add(raw.token().id());
                offsets.add(raw.start());
                offsets.add(raw.end());
                // as in Hugging Face, the token string is the matched text, stripped spaces included
                tokens.add(text.substring(raw.start(), raw.end()));
                continue;
            }

            // 2. normalize each piece between them, then match added tokens on the normalized text
            Segment piece = Segment.ofOriginal(text, raw.start(), raw.end());
            Segment normalized = normalizer == null ? piece : normalizer.normalize(piece);
            for (AddedVocabulary.Split split : normalizedAdded.find(normalized.text, specialTokensAsText)) {
                if (split.token() != null) {
                    ids.add(split.token().id());
                    offsets.add(normalized.originalStartOf(split.start(), split.end()));
                    offsets.add(normalized.originalEndOf(split.start(), split.end()));
                    tokens.add(normalized.text.substring(split.start(), split.end()));
                    continue;
                }

                // 3. pre-tokenize into words, and 4. split each word with the model
                Segment plain = normalized.slice(split.start(), split.end());
                List<Segment> words = new ArrayList<>();
                if (preTokenizer == null) {
                    if (!plain.isEmpty()) {
                        words.add(plain);
                    }
                } else {
                    preTokenizer.preTokenize(plain, words);
                }
                for (Segment word : words) {
                    appendWord(word, ids, offsets, tokens);
                }
            }
        }

        // 5. post-process: trim offsets, then add the template's tokens
        int[] contentOffsets = offsets.toArray();
        postProcessor.trimOffsets(tokens, 0, contentOffsets);
        if (!addSpecialTokens) {
            return new Encoding(ids.toArray(), tokens.toArray(new String[0]), contentOffsets);
        }
        IntList allIds = new IntList();
        IntList allOffsets = new IntList();
        List<String> allTokens = new ArrayList<>(tokens.size() + 2);
        appendSpecials(postProcessor.prefixIds, postProcessor.prefixTokens, allIds, allOffsets, allTokens);
        int[] contentIds = ids.toArray();
        for (int i = 0; i < contentIds.length; i++) {
            allIds.add(contentIds[i]);
            allOffsets.add(contentOffsets[2 * i]);
            allOffsets.add(contentOffsets[2 * i + 1]);
        }
        allTokens.addAll(tokens);
        appendSpecials(postProcessor.suffixIds, postProcessor.suffixTokens, allIds, allOffsets, allTokens);
        return new Encoding(allIds.toArray(), allTokens.toArray(new String[0]), allOffsets.toArray());
    }

    private void appendWord(Segment word, IntList ids, IntList offsets, List<String> tokens) {
        int[] pieces = model.tokenize(word.text);
        for (int k = 0; k < pieces.length; k += 3) {
            int id = pieces[k];
            ids.add(id);
            tokens.add(model.idToToken[id]);
            offsets.add(word.originalStartOf(pieces[k + 1], pieces[k + 2]));
            offsets.add(word.originalEndOf(pieces[k + 1], pieces[k + 2]));
        }
    }

    private static void appendSpecials(int[] specialIds, String[] specialTokens, IntList ids, IntList offsets,
                                       List<String> tokens) {
        for (int i = 0; i < specialIds.length; i++) {
            ids.add(specialIds[i]);
            offsets.add(0);
            offsets.add(0);
            tokens.add(specialTokens[i]);
        }
    }

    /**
     * Decodes ids to text with the file's decoder (tokens joined by spaces when it has none).
     * Ids outside the vocabulary are skipped, as in Hugging Face.
     *
     * @param skipSpecialTokens leave out special tokens such as BOS and EOS
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids, 0, ids.length, skipSpecialTokens);
    }

    String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (skipSpecialTokens && specialIds.contains(id)) {
                continue;
            }
            String token = idToToken(id);
            if (token != null) {
                tokens.add(token);
            }
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    /** Returns a decoder that turns ids given one at a time into text, emitting only complete characters. */
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }

    /** Returns the token string of {@code id}, or null when no token has this id. */
    public String idToToken(int id) {
        AddedToken added = addedById.get(id);
        if (added != null) {
            return added.content();
        }
        return id >= 0 && id < model.idToToken.length ? model.idToToken[id] : null;
    }

    /** Returns the id of a token string (added tokens first, then the model vocabulary). */
    public OptionalInt tokenToId(String token) {
        AddedToken added = addedByContent.get(token);
        if (added != null) {
            return OptionalInt.of(added.id());
        }
        Integer id = model.vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Number of ids: one more than the largest id of the model or the added tokens. */
    public int vocabSize() {
        return vocabSize;
    }

    public boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    /** Returns the added tokens of the file, ordered by id. */
    public List<AddedToken> addedTokens() {
        List<AddedToken> list = new ArrayList<>(addedById.values());
        list.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return Collections.unmodifiableList(list);
    }

    /** Ids the post-processor adds before and after the text when special tokens are requested. */
    public int[] templatePrefixIds() {
        return postProcessor.prefixIds.clone();
    }

    public int[] templateSuffixIds() {
        return postProcessor.suffixIds.clone();
    }

    /** Name of the file this tokenizer was read from. */
    public String source() {
        return source;
    }

    /** Growable int array. */
    static final class IntList {
        private int[] data = new int[16];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
