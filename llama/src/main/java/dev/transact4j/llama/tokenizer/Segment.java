package dev.transact4j.llama.tokenizer;

import java.util.Arrays;

/**
 * A piece of normalized text that remembers, for each of its UTF-16 chars, the range of the
 * original input it came from. Normalizers and pre-tokenizers produce new segments, and the model
 * turns a segment into tokens whose offsets are read back through these ranges.
 *
 * <p>Offsets are UTF-16 indices into the string passed to {@link Tokenizer#encode}.
 */
final class Segment {
    final String text;
    /** Original start of each char of {@link #text}. */
    final int[] starts;
    /** Original end (exclusive) of each char of {@link #text}. */
    final int[] ends;
    /** Original range of the segment, used when the text is empty. */
    final int originalStart;
    final int originalEnd;

    Segment(String text, int[] starts, int[] ends, int originalStart, int originalEnd) {
        this.text = text;
        this.starts = starts;
        this.ends = ends;
        this.originalStart = originalStart;
        this.originalEnd = originalEnd;
    }

    /** Creates the segment of {@code original[from, to)}, aligned one to one. */
    static Segment ofOriginal(String original, int from, int to) {
        int n = to - from;
        int[] starts = new int[n];
        int[] ends = new int[n];
        for (int i = 0; i < n; i++) {
            starts[i] = from + i;
            ends[i] = from + i + 1;
        }
        return new Segment(original.substring(from, to), starts, ends, from, to);
    }

    boolean isEmpty() {
        return text.isEmpty();
    }

    int length() {
        return text.length();
    }

    /** Returns the chars {@code [from, to)} of this segment with their alignment. */
    Segment slice(int from, int to) {
        if (from == 0 && to == text.length()) {
            return this;
        }
        int start = from < text.length() ? starts[from] : originalEnd;
        int end = to > from ? ends[to - 1] : start;
        return new Segment(text.substring(from, to), Arrays.copyOfRange(starts, from, to),
                Arrays.copyOfRange(ends, from, to), start, end);
    }

    /** Original start of the char range {@code [from, to)}; the segment start when it is empty. */
    int originalStartOf(int from, int to) {
        return to > from ? starts[from] : originalStart;
    }

    /** Original end of the char range {@code [from, to)}; the segment start when it is empty. */
    int originalEndOf(int from, int to) {
        return to > from ? ends[to - 1] : originalStart;
    }

    /** Builds a new segment char by char, each appended char carrying an original range. */
    static final class Builder {
        private final StringBuilder text;
        private int[] starts;
        private int[] ends;
        private int size;

        Builder(int capacity) {
            text = new StringBuilder(capacity);
            starts = new int[Math.max(capacity, 4)];
            ends = new int[Math.max(capacity, 4)];
        }

        void append(char c, int start, int end) {
            if (size == starts.length) {
                starts = Arrays.copyOf(starts, size * 2);
                ends = Arrays.copyOf(ends, size * 2);
            }
            text.append(c);
            starts[size] = start;
            ends[size] = end;
            size++;
        }

        /** Appends every char of {@code s}, all aligned to the same original range. */
        void append(CharSequence s, int start, int end) {
            for (int i = 0; i < s.length(); i++) {
                append(s.charAt(i), start, end);
            }
        }

        Segment build(Segment source) {
            return new Segment(text.toString(), Arrays.copyOf(starts, size), Arrays.copyOf(ends, size),
                    source.originalStart, source.originalEnd);
        }
    }
}
