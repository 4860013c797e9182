package dev.transact4j.llama.inference;

import dev.transact4j.llama.LlamaConfig;
import dev.transact4j.llama.inference.GenerationResult.StopReason;
import dev.transact4j.llama.tokenizer.StreamDecoder;
import dev.transact4j.llama.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Generates text with a {@link CausalLm}: one pass over the prompt, then one decoding step per
 * token, each token chosen by a {@link Sampler}, until an EOS or stop id, {@code max_new_tokens}
 * or a full KV cache.
 *
 * <p>Text is streamed through the tokenizer's {@link StreamDecoder}, primed with the prompt ids so
 * the first generated word keeps its leading space. The callback receives only complete
 * characters: ids that form part of a UTF-8 sequence (byte-fallback tokens) are held back until
 * the sequence completes. A stop id is not decoded into the text.
 *
 * <p>The generator owns one KV cache, allocated once and reset at the start of every run, so one
 * generator serves one run at a time.
 */
public final class Generator {

    private final CausalLm model;
    private final Tokenizer tokenizer;
    private final KvCache cache;

    /**
     * Creates a generator whose cache has room for {@code maxSeq} positions, prompt and generated tokens
     * together.
     *
     * @param tokenizer the tokenizer for text prompts and streamed text, or null to work on ids only
     */
    public Generator(CausalLm model, Tokenizer tokenizer, int maxSeq) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.cache = KvCache.forConfig(model.config(), maxSeq);
    }

    /** Creates a generator whose cache has room for the model's {@code max_position_embeddings} positions. */
    public Generator(CausalLm model, Tokenizer tokenizer) {
        this(model, tokenizer, model.config().maxPositionEmbeddings());
    }

    /** Returns the KV cache, for its memory report. */
    public KvCache cache() {
        return cache;
    }

    /**
     * Encodes {@code prompt} with the tokenizer and generates from it.
     *
     * @param onText receives each new piece of text as soon as it is complete; may be null
     * @throws IllegalStateException when the generator has no tokenizer
     */
    public GenerationResult generate(String prompt, GenerationOptions options, Consumer<String> onText) {
        if (tokenizer == null) {
            throw new IllegalStateException("Generator: a text prompt needs a tokenizer; create the generator with "
                    + "one or pass token ids");
        }
        return generate(tokenizer.encodeIds(prompt, options.addSpecialTokens()), options, onText);
    }

    /** Encodes {@code prompt} and generates from it without streaming. */
    public GenerationResult generate(String prompt, GenerationOptions options) {
        return generate(prompt, options, null);
    }

    /**
     * Generates from {@code promptIds}.
     *
     * @param onText receives each new piece of text (only with a tokenizer); may be null
     * @throws IllegalArgumentException when the prompt is empty, contains an id outside the
     *                                  vocabulary or does not fit the cache
     * @throws IllegalStateException    when the model breaks the {@link CausalLm} contract
     */
    public GenerationResult generate(int[] promptIds, GenerationOptions options, Consumer<String> onText) {
        LlamaConfig config = model.config();
        checkPrompt(promptIds, config);
        boolean[] stop = stopSet(options, config);
        Sampler sampler = new Sampler(options.sampling());
        // a full cache ends the run after maxSeq - prompt + 1 tokens, so a larger max_new_tokens is never reached
        int maxGenerated = Math.min(options.maxNewTokens(), cache.maxSeq() - promptIds.length + 1);
        int[] history = Arrays.copyOf(promptIds, promptIds.length + maxGenerated);
        int historySize = promptIds.length;
        StringBuilder text = new StringBuilder();
        StreamDecoder stream = null;
        if (tokenizer != null) {
            stream = tokenizer.streamDecoder(options.skipSpecialTokens());
            for (int id : promptIds) {
                stream.step(id);
            }
        }

        // prompt pass
        cache.reset();
        long start = System.nanoTime();
        float[] logits = model.prefill(promptIds.clone(), cache);
        long prefillEnd = System.nanoTime();
        checkStep(logits, promptIds.length, config);

        // one token per iteration; the last chosen token is never fed back
        StopReason reason;
        while (true) {
            int id = sampler.sample(logits, history, historySize);
            history[historySize++] = id;
            if (stop[id]) {
                reason = StopReason.EOS;
                break;
            }
            if (stream != null) {
                String piece = stream.step(id);
                if (piece != null && !piece.isEmpty()) {
                    text.append(piece);
                    if (onText != null) {
                        onText.accept(piece);
                    }
                }
            }
            if (historySize - promptIds.length == options.maxNewTokens()) {
                reason = StopReason.MAX_TOKENS;
                break;
            }
            if (cache.remaining() == 0) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            logits = model.decodeStep(id, cache);
            checkStep(logits, historySize, config);
        }
        long end = System.nanoTime();

        int[] generated = Arrays.copyOfRange(history, promptIds.length, historySize);
        return new GenerationResult(promptIds.clone(), generated, text.toString(), reason, prefillEnd - start,
                end - prefillEnd);
    }

    private void checkPrompt(int[] promptIds, LlamaConfig config) {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("Generator: the prompt has no tokens; give at least one id "
                    + "(a text prompt gets BOS when addSpecialTokens is set and the tokenizer adds it)");
        }
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i] < 0 || promptIds[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("Generator: prompt id " + promptIds[i] + " at position " + i
                        + " is outside the vocabulary [0, " + config.vocabSize() + ") of the model");
            }
        }
        if (promptIds.length > cache.maxSeq()) {
            throw new IllegalArgumentException("Generator: the prompt has " + promptIds.length + " tokens but the KV "
                    + "cache holds " + cache.maxSeq() + " positions; shorten the prompt or create the generator "
                    + "with a larger max_seq (at most max_position_embeddings " + config.maxPositionEmbeddings() + ")");
        }
    }

    private static boolean[] stopSet(GenerationOptions options, LlamaConfig config) {
        boolean[] stop = new boolean[config.vocabSize()];
        if (options.stopAtEos()) {
            for (int id : config.eosTokenIds()) {
                stop[id] = true;
            }
        }
        for (int id : options.stopIds()) {
            if (id < 0 || id >= stop.length) {
                throw new IllegalArgumentException("Generator: stop id " + id + " is outside the vocabulary [0, "
                        + stop.length + ")");
            }
            stop[id] = true;
        }
        return stop;
    }

    /** Checks that a model call returned one logit per vocabulary entry and filled the cache. */
    private void checkStep(float[] logits, int expectedLength, LlamaConfig config) {
        if (logits == null || logits.length != config.vocabSize()) {
            throw new IllegalStateException("Generator: the model returned " + (logits == null ? "null"
                    : logits.length + " logits") + " instead of vocab_size " + config.vocabSize() + " logits");
        }
        if (cache.length() != expectedLength) {
            throw new IllegalStateException("Generator: after processing " + expectedLength + " positions the KV "
                    + "cache holds " + cache.length() + "; the model must append every position to every layer");
        }
    }
}
