package dev.transact4j.train.cli;

import dev.transact4j.train.data.DatasetException;
import java.util.Map;

/**
 * Messages for dataset errors that give the fix in terms of a command's own options, in place of
 * the data layer's advice, which names API settings such as the file pattern or seq_len.
 */
final class DataAdvice {
    private DataAdvice() {
    }

    private static final String FIELD = "Give every line a \"text\" field that contains the document.";

    /** Advice for pretrain and prune, whose data options are {@link DataOptions}. */
    private static final Map<DatasetException.Kind, String> PRETRAIN = Map.of(
            DatasetException.Kind.NO_MATCHING_FILES, "Add *.txt files (one document each) to the directory, or pass "
                    + "one *.jsonl or *.bin file.",
            DatasetException.Kind.MISSING_FIELD, FIELD,
            DatasetException.Kind.TOO_FEW_TOKENS, "Add data or lower --seq-len.",
            DatasetException.Kind.TOO_MANY_BLOCKS, "Raise --seq-len or split the data.",
            DatasetException.Kind.NO_TRAINING_BLOCKS, "Add data, lower --seq-len or lower --valid-fraction.",
            DatasetException.Kind.FEWER_BLOCKS_THAN_BATCH, "Add data, lower --seq-len or lower --micro-batch.");

    /** Advice for train. */
    private static final Map<DatasetException.Kind, String> TRAIN = Map.of(
            DatasetException.Kind.NO_MATCHING_FILES, "Add files, or set --format to the format of the files there"
                    + " (text for *.txt, jsonl for *.jsonl, tokens for *.bin).",
            DatasetException.Kind.MISSING_FIELD, FIELD,
            DatasetException.Kind.TOO_FEW_TOKENS, "Add data or lower --seq-len.",
            DatasetException.Kind.TOO_MANY_BLOCKS, "Raise --seq-len or split the data.",
            DatasetException.Kind.NO_TRAINING_BLOCKS, "Add data, lower --seq-len or lower --validation-fraction.",
            DatasetException.Kind.FEWER_BLOCKS_THAN_BATCH, "Add data, lower --seq-len or lower --micro-batch.");

    /** Returns the message of {@code e} with the advice of pretrain and prune. */
    static String forPretrain(DatasetException e) {
        return message(e, PRETRAIN);
    }

    /** Returns the message of {@code e} with the advice of train. */
    static String forTrain(DatasetException e) {
        return message(e, TRAIN);
    }

    private static String message(DatasetException e, Map<DatasetException.Kind, String> adviceByKind) {
        String advice = adviceByKind.get(e.kind());
        String message = advice == null ? e.getMessage() : e.description() + " " + advice;
        return CliModels.shortened(message);
    }
}
