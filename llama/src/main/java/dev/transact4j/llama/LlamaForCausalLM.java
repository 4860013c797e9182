package dev.transact4j.llama;

import dev.transact4j.nn.Initialization;
import dev.transact4j.nn.Linear;
import dev.transact4j.nn.Module;
import dev.transact4j.tensor.Functional;
import dev.transact4j.tensor.GradMode;
import dev.transact4j.tensor.Tensor;
import dev.transact4j.tensor.fused.CrossEntropy;

/**
 * Hugging Face's {@code LlamaForCausalLM}: token embedding, decoder layers, final RMSNorm and the
 * output projection {@code lm_head}, which is the embedding matrix itself when the embeddings are
 * tied. It is an nn {@link Module} whose parameter names are those of a Hugging Face checkpoint,
 * such as {@code model.layers.0.self_attn.q_proj.weight}. {@code checkpoint.LlamaWeights} lists them all.
 *
 * <p>Dimensions: {@code B} batch, {@code T} time, {@code V} vocab_size, {@code C} hidden_size.
 * Token ids and labels are row-major {@code [B, T]} int arrays.
 *
 * <p>Training: {@link #forward(int[], int[], int, int)} records the autograd graph through the
 * fused kernels of {@link Functional}, so {@code loss().backward()} fills the {@code grad()} of
 * every parameter. Inference: {@link #forward(int[], int, int, AttentionCache, boolean)} runs a
 * prompt in one batched pass (prefill) or one token per sequence (decoding) against an
 * {@link AttentionCache}, without autograd. {@code inference.LlamaCausalLm} adapts it to the
 * generator and perplexity interfaces. An {@link ActivationObserver} receives each layer's
 * transitional activations in both.
 */
public final class LlamaForCausalLM extends Module {

    /** Label value that contributes no loss, as in PyTorch's cross entropy. */
    public static final int IGNORE_INDEX = CrossEntropy.DEFAULT_IGNORE_INDEX;

    /** Logits and, when labels were given, the loss and the number of labels it covers. */
    public record Output(Tensor logits, Tensor loss, int tokenCount) {
    }

    private final LlamaConfig config;
    private final boolean tied;
    private final LlamaModel model;
    private final Linear lmHead;
    private final RotaryTables rotary;
    private volatile ActivationObserver observer;

    /**
     * Creates a model of {@code config}'s sizes with zero weights. Initialise it with
     * {@link #initialize} or load a checkpoint. When {@code tied}, {@code lm_head} reads the
     * embedding matrix and has no parameter of its own, so {@link #namedParameters()} lists
     * {@code model.embed_tokens.weight} once.
     */
    public LlamaForCausalLM(LlamaConfig config, boolean tied) {
        this.config = config;
        this.tied = tied;
        this.model = registerModule("model", new LlamaModel(config));
        this.lmHead = registerModule("lm_head", new Linear(config.hiddenSize(), config.vocabSize(), false));
        if (tied) {
            lmHead.tieWeight(model.embedTokens().weight());
        }
        this.rotary = new RotaryTables(config);
    }

    /**
     * Returns a model initialised as Hugging Face's {@code _init_weights} does (see
     * {@link Initialization#llama}) with {@code initializer_range} from the config, tied when the
     * config sets {@code tie_word_embeddings}.
     */
    public static LlamaForCausalLM initialize(LlamaConfig config, long seed) {
        LlamaForCausalLM model = new LlamaForCausalLM(config, config.tieWordEmbeddings());
        Initialization.llama(model, config.initializerRange(), seed);
        return model;
    }

    /** Returns the configuration. */
    public LlamaConfig config() {
        return config;
    }

    /** Returns whether lm_head is the embedding matrix (and has no parameter of its own). */
    public boolean tied() {
        return tied;
    }

    /** Returns the body: embedding, decoder layers and final norm. */
    public LlamaModel model() {
        return model;
    }

    /** Returns the output projection; its weight is the embedding's when {@link #tied()}. */
    public Linear lmHead() {
        return lmHead;
    }

    /** Sets the observer of later forward passes; null removes it. */
    public void setObserver(ActivationObserver observer) {
        this.observer = observer;
    }

    /** Returns the current observer, or null. */
    public ActivationObserver observer() {
        return observer;
    }

    // ---------------------------------------------------------------- training forward

    /**
     * Returns the logits {@code [B, T, V]} of {@code inputIds [B, T]}, recording autograd unless
     * inside {@link GradMode#noGrad()}.
     *
     * @throws IllegalArgumentException when the ids do not fill {@code [B, T]} or an id is outside
     *     the vocabulary
     */
    public Tensor logits(int[] inputIds, int batch, int seqLen) {
        checkIds("inputIds", inputIds, batch, seqLen, false);
        return run(inputIds, batch, seqLen, 0, null, true);
    }

    /**
     * Returns the logits and the mean cross entropy of each position predicting the next label, as
     * Hugging Face's {@code LlamaForCausalLM(input_ids, labels=labels)}: labels are shifted inside,
     * so position {@code t} is scored against {@code labels[t + 1]}, and labels equal to
     * {@link #IGNORE_INDEX} count for nothing. With every label ignored the loss is NaN.
     *
     * @throws IllegalArgumentException when ids or labels do not fill {@code [B, T]} or a value is
     *     outside the vocabulary (labels may also be {@link #IGNORE_INDEX})
     */
    public Output forward(int[] inputIds, int[] labels, int batch, int seqLen) {
        int[] targets = shiftedTargets(inputIds, labels, batch, seqLen);
        Tensor logits = run(inputIds, batch, seqLen, 0, null, true);
        Tensor flat = logits.view(batch * seqLen, config.vocabSize());
        Tensor loss = Functional.crossEntropy(flat, targets, IGNORE_INDEX);
        return new Output(logits, loss, CrossEntropy.countTargets(targets, 0, targets.length, IGNORE_INDEX));
    }

    /**
     * Returns the logits and the sum of the per-token cross entropies divided by
     * {@code normalizer}, with labels shifted as {@link #forward(int[], int[], int, int)}. A trainer
     * that splits a batch into micro-batches passes the label count of the whole batch, so the
     * micro-batch gradients add up to the gradient of the batch mean. Pass 1 for the plain sum.
     * {@link Output#tokenCount()} is the number of labels of this call that count.
     *
     * @throws IllegalArgumentException as {@link #forward(int[], int[], int, int)}, or when the
     *     normalizer is not positive
     */
    public Output forward(int[] inputIds, int[] labels, int batch, int seqLen, float normalizer) {
        if (!(normalizer > 0) || Float.isInfinite(normalizer)) {
            throw new IllegalArgumentException("LlamaForCausalLM.forward: normalizer " + normalizer
                    + " must be a positive number, such as the label count of the whole batch");
        }
        int[] targets = shiftedTargets(inputIds, labels, batch, seqLen);
        Tensor logits = run(inputIds, batch, seqLen, 0, null, true);
        Tensor flat = logits.view(batch * seqLen, config.vocabSize());
        Tensor loss = Functional.crossEntropy(flat, targets, IGNORE_INDEX, normalizer);
        return new Output(logits, loss, CrossEntropy.countTargets(targets, 0, targets.length, IGNORE_INDEX));
    }

    /** Returns {@link #forward(int[], int[], int, int, float)} with normalizer 1: the summed loss. */
    public Output forwardSum(int[] inputIds, int[] labels, int batch, int seqLen) {
        return forward(inputIds, labels, batch, seqLen, 1f);
    }

    /** Returns the targets of every position: the next label, and IGNORE_INDEX at the last step. */
    private int[] shiftedTargets(int[] inputIds, int[] labels, int batch, int seqLen) {
        checkIds("inputIds", inputIds, batch, seqLen, false);
        checkIds("labels", labels, batch, seqLen, true);
        int[] targets = new int[batch * seqLen];
        for (int b = 0; b < batch; b++) {
            int row = b * seqLen;
            System.arraycopy(labels, row + 1, targets, row, seqLen - 1);
            targets[row + seqLen - 1] = IGNORE_INDEX;
        }
        return targets;
    }

    private void checkIds(String what, int[] ids, int batch, int seqLen, boolean allowIgnore) {
        if (batch <= 0 || seqLen <= 0 || ids.length != (long) batch * seqLen) {
            throw new IllegalArgumentException("LlamaForCausalLM: " + what + " has " + ids.length
                    + " values, expected batch * seqLen = " + batch + " * " + seqLen + " (both positive)");
        }
        int vocab = config.vocabSize();
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if ((id < 0 || id >= vocab) && !(allowIgnore && id == IGNORE_INDEX)) {
                throw new IllegalArgumentException("LlamaForCausalLM: " + what + "[" + (i / seqLen) + ", " + (i % seqLen)
                        + "] = " + id + " is outside the vocabulary [0, " + vocab + ")"
                        + (allowIgnore ? " and is not " + IGNORE_INDEX : ""));
            }
        }
    }

    // ---------------------------------------------------------------- inference

    /** Returns an empty KV cache for {@code batch} sequences of up to {@code capacity} tokens. */
    public LlamaKvCache newCache(int batch, int capacity) {
        return new LlamaKvCache(config, batch, capacity);
    }

    /**
     * Runs {@code steps} new tokens per sequence ({@code inputIds [B, steps]}) at the positions
     * following what the cache holds, appends their keys and values to it, and returns the logits
     * of every new position {@code [B, steps, V]} when {@code allPositions}, else of the last one
     * {@code [B, V]}. A prompt goes in one call (prefill); decoding calls with one step. Runs
     * without autograd. A single sequence's projections run as matrix-vector products.
     *
     * @throws IllegalArgumentException when the ids do not fill {@code [B, steps]}, an id is outside
     *     the vocabulary, the batch differs from the cache's or the cache was made for other layer,
     *     head or head_dim counts
     * @throws IllegalStateException when the tokens do not fit in the cache
     */
    public Tensor forward(int[] inputIds, int batch, int steps, AttentionCache cache, boolean allPositions) {
        checkIds("inputIds", inputIds, batch, steps, false);
        if (cache.batch() != batch) {
            throw new IllegalArgumentException("LlamaForCausalLM: the input has " + batch
                    + " sequences but the cache was created for " + cache.batch());
        }
        checkCacheGeometry(cache);
        if (steps > cache.capacity() - cache.length()) {
            String tokens = steps == 1 ? "1 more token does not fit" : steps + " more tokens do not fit";
            throw new IllegalStateException("LlamaForCausalLM: " + tokens + " in the KV cache, which stores "
                    + cache.length() + " of " + cache.capacity() + " positions. Start a new sequence or create a cache"
                    + " with a larger capacity.");
        }
        try (GradMode.Scope scope = GradMode.noGrad()) {
            return run(inputIds, batch, steps, cache.length(), cache, allPositions);
        }
    }

    /**
     * Checks that {@code cache} has this model's layers and, per layer, room for
     * {@code B x num_key_value_heads x head_dim x capacity} keys and values, so a cache made for
     * another config fails here by name instead of inside attention.
     */
    private void checkCacheGeometry(AttentionCache cache) {
        long perLayer = (long) cache.batch() * config.numKeyValueHeads() * config.headDim() * cache.capacity();
        if (cache.layers() != config.numHiddenLayers() || cache.keys(0).length != perLayer
                || cache.values(0).length != perLayer) {
            throw new IllegalArgumentException("LlamaForCausalLM: the KV cache does not fit this model. It has "
                    + cache.layers() + " layers of " + cache.keys(0).length + " key floats, and the model needs "
                    + config.numHiddenLayers() + " layers of batch " + cache.batch() + " x num_key_value_heads "
                    + config.numKeyValueHeads() + " x head_dim " + config.headDim() + " x capacity "
                    + cache.capacity() + " = " + perLayer + ". Create the cache from this model's config, with"
                    + " model.newCache or KvCache.forConfig.");
        }
    }

    /** Returns the logits {@code [B, V]} of one next token per sequence ({@code tokens [B]}), appended to the cache. */
    public Tensor decode(int[] tokens, AttentionCache cache) {
        return forward(tokens, tokens.length, 1, cache, false);
    }

    // ---------------------------------------------------------------- the network

    /** Returns logits {@code [B, T, V]}, or {@code [B, V]} of the last step unless allPositions. */
    private Tensor run(int[] ids, int batch, int steps, int positionOffset, AttentionCache cache, boolean allPositions) {
        int c = config.hiddenSize();
        rotary.ensure(positionOffset + steps);
        ActivationObserver listener = observer;

        // token embedding, rows batch-major: [B * T, C]
        Tensor x = model.embedTokens().forward(ids, batch * steps);
        int layer = 0;
        for (LlamaDecoderLayer decoderLayer : model.layers()) {
            x = decoderLayer.forward(x, batch, steps, layer, rotary, positionOffset, cache, listener);
            layer++;
        }

        // final norm and lm_head, over the last step only when that is all the caller needs
        if (!allPositions && steps > 1) {
            x = x.view(batch, steps, c).select(1, steps - 1);
        }
        Tensor logits = lmHead.forward(model.norm().forward(x));
        return allPositions ? logits.view(batch, steps, config.vocabSize()) : logits.view(batch, config.vocabSize());
    }

    @Override
    public String toString() {
        return "LlamaForCausalLM[" + config.numHiddenLayers() + " layers, hidden " + config.hiddenSize()
                + ", heads " + config.numAttentionHeads() + "/" + config.numKeyValueHeads() + " x " + config.headDim()
                + ", mlp " + config.intermediateSize() + ", vocab " + config.vocabSize()
                + (tied ? ", tied" : "") + ", " + parameterCount() + " parameters]";
    }
}
