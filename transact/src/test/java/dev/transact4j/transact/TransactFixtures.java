package dev.transact4j.transact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.transact4j.llama.checkpoint.NamedArray;
import dev.transact4j.tensor.testing.Fixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the scenarios of {@code src/test/python/make_transact_fixtures.py} through the Java scorer,
 * planner and surgeon, feeding the activations and gradients that PyTorch recorded at every shot.
 */
final class TransactFixtures {

    /** Every scenario the fixture script writes. */
    static final List<String> SCENARIOS = List.of("mha_heads", "mha_mlp_layers", "mha_dim_recompute", "mha_dim_keep",
            "mha_shots", "mha_taylor", "gqa_groups", "gqa_dim_recompute", "gqa_dim_keep_shots", "gqa_taylor");

    /** A random model: its dimensions and its state dict. */
    record Model(ModelDims dims, Map<String, NamedArray> state) {
    }

    /** One shot of a scenario as the Java side computed it. */
    record Shot(ChannelScores scores, KeepPlan plan, Map<String, NamedArray> stateAfter) {
    }

    /** A scenario's fixture and the shots computed from it. */
    record Run(String name, Fixture fixture, Model model, List<Shot> shots) {
    }

    private TransactFixtures() {
    }

    static Model model(String name) {
        Fixture fixture = Fixture.load("transact/" + name + "/model");
        JsonNode config = json(fixture.metadata().get("config"));
        ModelDims dims = ModelDims.of(config.get("hidden_size").asInt(), config.get("num_attention_heads").asInt(),
                config.get("num_key_value_heads").asInt(), config.get("head_dim").asInt(),
                config.get("intermediate_size").asInt(), config.get("num_hidden_layers").asInt());
        Map<String, NamedArray> state = new LinkedHashMap<>();
        for (String key : fixture.keys()) {
            state.put(key, namedArray(fixture.get(key)));
        }
        return new Model(dims, state);
    }

    static NamedArray namedArray(Fixture.Array array) {
        return new NamedArray(array.floats(), array.shape());
    }

    static Run run(String name) {
        Fixture fixture = Fixture.load("transact/" + name);
        Map<String, String> meta = fixture.metadata();
        Model model = model(meta.get("model"));
        int shotCount = Integer.parseInt(meta.get("shots"));
        AttentionPruning attention = meta.get("mode").equals("heads") ? AttentionPruning.HEADS : AttentionPruning.HEAD_DIMS;
        RopeMode rope = meta.get("rope").equals("keep") ? RopeMode.KEEP : RopeMode.RECOMPUTE;

        ModelDims dims = model.dims();
        Map<String, NamedArray> state = model.state();
        List<Shot> shots = new ArrayList<>();
        for (int s = 1; s <= shotCount; s++) {
            ChannelScores scores = meta.get("scorer").equals("acts")
                    ? actsScores(fixture, s, dims)
                    : taylorScores(fixture, s, dims, state);
            int[] target = fixture.get("shot" + s + ".target").ints();
            PruneTarget pruneTarget = new PruneTarget(target[0], target[1], target[2], attention, rope);
            KeepPlan plan = KeepPlanner.plan(dims, scores, pruneTarget);
            StateDictSurgeon.Result result = StateDictSurgeon.apply(state, plan);
            shots.add(new Shot(scores, plan, result.state()));
            dims = result.dims();
            state = result.state();
        }
        return new Run(name, fixture, model, shots);
    }

    /** Feeds every calibration batch of a shot, the second one from an offset inside a larger buffer. */
    static ChannelScores actsScores(Fixture fixture, int shot, ModelDims dims) {
        ActsScorer scorer = ActsScorer.forModel(dims);
        for (int b = 0; fixture.has("shot" + shot + ".batch" + b + ".layer0.attention"); b++) {
            for (int layer = 0; layer < dims.layers(); layer++) {
                String prefix = "shot" + shot + ".batch" + b + ".layer" + layer + ".";
                feed(scorer, layer, ActsScorer.Module.ATTENTION, fixture.get(prefix + "attention"), b);
                feed(scorer, layer, ActsScorer.Module.MLP, fixture.get(prefix + "mlp"), b);
            }
        }
        return scorer.scores();
    }

    private static void feed(ActsScorer scorer, int layer, ActsScorer.Module module, Fixture.Array rows, int offset) {
        float[] values = rows.floats();
        float[] padded = new float[offset + values.length + 3];
        System.arraycopy(values, 0, padded, offset, values.length);
        scorer.observe(layer, module, padded, offset, rows.shape()[0]);
    }

    static ChannelScores taylorScores(Fixture fixture, int shot, ModelDims dims, Map<String, NamedArray> state) {
        TaylorScorer scorer = new TaylorScorer(dims);
        for (int b = 0; fixture.has("shot" + shot + ".batch" + b + ".grad.model.layers.0.self_attn.q_proj.weight"); b++) {
            for (int layer = 0; layer < dims.layers(); layer++) {
                for (Projection projection : Projection.values()) {
                    String weightName = projection.weightName(layer);
                    NamedArray gradient = namedArray(fixture.get("shot" + shot + ".batch" + b + ".grad." + weightName));
                    scorer.observe(layer, projection, state.get(weightName), gradient);
                }
            }
        }
        return scorer.scores();
    }

    static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
