package dev.transact4j.llama.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds added tokens in text: leftmost-longest matching over the token contents (as the
 * Aho-Corasick automaton of Hugging Face tokenizers does), then the {@code single_word},
 * {@code lstrip} and {@code rstrip} rules.
 */
final class AddedVocabulary {
    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    /** Trie node over UTF-16 chars. */
    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token;
    }

    private final Node root = new Node();
    private boolean empty = true;

    /** Adds a token that matches the text {@code pattern}; an empty pattern never matches. */
    void add(AddedToken token, String pattern) {
        if (pattern.isEmpty()) {
            return;
        }
        Node node = root;
        for (int i = 0; i < pattern.length(); i++) {
            node = node.children.computeIfAbsent(pattern.charAt(i), c -> new Node());
        }
        node.token = token;
        empty = false;
    }

    /** A piece of text: either an added token or plain text, as a char range of the searched text. */
    record Split(int start, int end, AddedToken token) {
    }

    /**
     * Splits {@code text} into added tokens and the plain pieces between them. With
     * {@code skipSpecial}, special tokens are not matched, so their text is encoded as plain text.
     */
    List<Split> find(String text, boolean skipSpecial) {
        List<Split> out = new ArrayList<>();
        if (empty || text.isEmpty()) {
            out.add(new Split(0, text.length(), null));
            return out;
        }
        int startOffset = 0;
        int i = 0;
        while (i < text.length()) {
            // leftmost-longest: the first position where some token matches, the longest token there
            Node node = root.children.get(text.charAt(i));
            AddedToken best = null;
            int bestEnd = -1;
            int j = i;
            while (node != null) {
                j++;
                if (node.token != null) {
                    best = node.token;
                    bestEnd = j;
                }
                node = j < text.length() ? node.children.get(text.charAt(j)) : null;
            }
            if (best == null) {
                i++;
                continue;
            }
            int start = i;
            int stop = bestEnd;
            i = bestEnd;
            if (skipSpecial && best.special()) {
                continue;
            }
            if (best.singleWord()) {
                boolean spaceBefore = start == 0 || !isWordChar(text.codePointBefore(start));
                boolean spaceAfter = stop == text.length() || !isWordChar(text.codePointAt(stop));
                if (!spaceBefore || !spaceAfter) {
                    continue;
                }
            }
            if (best.lstrip()) {
                int newStart = start;
                while (newStart > 0 && Normalizers.isWhitespace(text.codePointBefore(newStart))) {
                    newStart -= Character.charCount(text.codePointBefore(newStart));
                }
                start = Math.max(newStart, startOffset);
            }
            if (best.rstrip()) {
                while (stop < text.length() && Normalizers.isWhitespace(text.codePointAt(stop))) {
                    stop += Character.charCount(text.codePointAt(stop));
                }
                i = stop;
            }
            if (startOffset < start) {
                out.add(new Split(startOffset, start, null));
            }
            out.add(new Split(start, stop, best));
            startOffset = stop;
        }
        if (startOffset != text.length()) {
            out.add(new Split(startOffset, text.length(), null));
        }
        return out;
    }

    private static boolean isWordChar(int cp) {
        return WORD_CHAR.matcher(new String(Character.toChars(cp))).matches();
    }
}
