package dev.transact4j.llama.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of Hugging Face tokenizers: a word is split into chars (or, with byte fallback,
 * into {@code <0xNN>} byte tokens for chars outside the vocabulary), then the adjacent pair with
 * the lowest merge rank is merged until no pair has a rank. Ties go to the leftmost pair.
 *
 * <p>Cost: O(n log n) per word of n chars, with a binary heap of candidate merges whose stale
 * entries are skipped when popped. Words up to {@link #CACHE_MAX_WORD} chars are cached.
 */
final class BpeModel {
    static final int CACHE_MAX_WORD = 256;
    private static final int CACHE_MAX_ENTRIES = 200_000;

    final Map<String, Integer> vocab;
    final String[] idToToken;
    /** Pair (left id << 32 | right id) to merge rank. */
    private final LongIntMap pairRank;
    /** Merge rank to the id of the merged token. */
    private final int[] rankResult;
    final String unkToken;
    private final int unkId;
    final boolean fuseUnk;
    final boolean byteFallback;
    final boolean ignoreMerges;
    private final int[] byteTokenIds;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeModel(Map<String, Integer> vocab, List<String[]> merges, String unkToken, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges, JsonReader json, String path) {
        this.vocab = vocab;
        int size = 0;
        for (int id : vocab.values()) {
            size = Math.max(size, id + 1);
        }
        idToToken = new String[size];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        pairRank = new LongIntMap(merges.size() * 2 + 16);
        rankResult = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = merges.get(rank);
            Integer left = vocab.get(pair[0]);
            Integer right = vocab.get(pair[1]);
            Integer merged = vocab.get(pair[0] + pair[1]);
            if (left == null || right == null || merged == null) {
                String missing = pair[0] + pair[1];
                if (left == null) {
                    missing = pair[0];
                } else if (right == null) {
                    missing = pair[1];
                }
                throw json.error(path + ".merges[" + rank + "]", "merge '" + pair[0] + " " + pair[1]
                        + "' uses token '" + missing + "', which is not in the vocabulary");
            }
            pairRank.put(key(left, right), rank);
            rankResult[rank] = merged;
        }
        this.unkToken = unkToken;
        if (unkToken != null && !vocab.containsKey(unkToken)) {
            throw json.error(path + ".unk_token", "unk_token '" + unkToken + "' is not in the vocabulary");
        }
        this.unkId = unkToken == null ? -1 : vocab.get(unkToken);
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        byteTokenIds = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteTokenIds[b] = id == null ? -1 : id;
        }
    }

    static BpeModel parse(JsonReader json, JsonNode node, String path) {
        String type = json.optionalText(node, "type", "BPE");
        if (!type.equals("BPE")) {
            throw json.unsupported("model", node, path);
        }
        if (node.hasNonNull("dropout") && node.get("dropout").asDouble() > 0) {
            throw json.error(path + ".dropout", "BPE dropout is not supported; set it to null");
        }
        String prefix = json.optionalText(node, "continuing_subword_prefix", "");
        String suffix = json.optionalText(node, "end_of_word_suffix", "");
        if (!prefix.isEmpty() || !suffix.isEmpty()) {
            throw json.error(path, "continuing_subword_prefix and end_of_word_suffix are not supported");
        }
        JsonNode vocabNode = json.required(node, "vocab", path);
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        JsonNode mergesNode = json.array(node, "merges", path);
        List<String[]> merges = new java.util.ArrayList<>(mergesNode.size());
        for (int i = 0; i < mergesNode.size(); i++) {
            JsonNode m = mergesNode.get(i);
            if (m.isTextual()) {
                // Older files write a merge as "left right"; the tokens themselves contain no space.
                String s = m.asText();
                int space = s.indexOf(' ', 1);
                if (space < 0) {
                    throw json.error(path + ".merges[" + i + "]", "invalid merge '" + s + "'; expected \"left right\"");
                }
                merges.add(new String[] {s.substring(0, space), s.substring(space + 1)});
            } else if (m.isArray() && m.size() == 2) {
                merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                throw json.error(path + ".merges[" + i + "]", "invalid merge " + m + "; expected [left, right]");
            }
        }
        return new BpeModel(vocab, merges, json.optionalText(node, "unk_token", null),
                json.bool(node, "fuse_unk", false), json.bool(node, "byte_fallback", false),
                json.bool(node, "ignore_merges", false), json, path);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    int size() {
        return idToToken.length;
    }

    /**
     * Tokenizes one word. Returns triples (id, start, end) flattened: [id0, start0, end0, id1, ...],
     * where start and end are char indices in the word. Byte-fallback tokens of one char all carry
     * that char's range.
     */
    int[] tokenize(String word) {
        if (word.isEmpty()) {
            return new int[0];
        }
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                return new int[] {id, 0, word.length()};
            }
        }
        boolean cacheable = word.length() <= CACHE_MAX_WORD;
        if (cacheable) {
            int[] hit = cache.get(word);
            if (hit != null) {
                return hit;
            }
        }
        int[] result = merge(word);
        if (cacheable) {
            if (cache.size() >= CACHE_MAX_ENTRIES) {
                cache.clear();
            }
            cache.put(word, result);
        }
        return result;
    }

    private int[] merge(String word) {
        // 1. initial symbols: one per char, or its byte tokens, or (fused) unknown tokens
        int n = word.length();
        int[] ids = new int[n * 4];
        int[] starts = new int[n * 4];
        int[] ends = new int[n * 4];
        int count = 0;
        int pendingUnkStart = 0;
        int pendingUnkEnd = 0;
        boolean pendingUnk = false;
        byte[] bytes = new byte[4];
        for (int i = 0; i < n; ) {
            int cp = word.codePointAt(i);
            int charLen = Character.charCount(cp);
            Integer id = vocab.get(word.substring(i, i + charLen));
            if (id != null) {
                if (pendingUnk) {
                    count = add(ids, starts, ends, count, unkId, pendingUnkStart, pendingUnkEnd);
                    pendingUnk = false;
                }
                count = add(ids, starts, ends, count, id, i, i + charLen);
            } else {
                boolean handled = false;
                if (byteFallback) {
                    int byteCount = ByteLevelAlphabet.utf8(cp, bytes);
                    boolean all = true;
                    for (int k = 0; k < byteCount; k++) {
                        all &= byteTokenIds[bytes[k] & 0xFF] >= 0;
                    }
                    if (all) {
                        for (int k = 0; k < byteCount; k++) {
                            count = add(ids, starts, ends, count, byteTokenIds[bytes[k] & 0xFF], i, i + charLen);
                        }
                        handled = true;
                    }
                }
                if (!handled && unkId >= 0) {
                    if (pendingUnk && fuseUnk) {
                        pendingUnkEnd = i + charLen;
                    } else {
                        if (pendingUnk) {
                            count = add(ids, starts, ends, count, unkId, pendingUnkStart, pendingUnkEnd);
                        }
                        pendingUnk = true;
                        pendingUnkStart = i;
                        pendingUnkEnd = i + charLen;
                    }
                }
                // With neither byte fallback nor an unk token the char is dropped, as in Hugging Face.
            }
            i += charLen;
        }
        if (pendingUnk) {
            count = add(ids, starts, ends, count, unkId, pendingUnkStart, pendingUnkEnd);
        }

        // 2. merge the pair of lowest rank, leftmost first, until none is left
        int[] prev = new int[count];
        int[] next = new int[count];
        boolean[] removed = new boolean[count];
        LongHeap heap = new LongHeap(count);
        for (int i = 0; i < count; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
            if (i + 1 < count) {
                int rank = pairRank.get(key(ids[i], ids[i + 1]));
                if (rank >= 0) {
                    heap.push(((long) rank << 32) | i);
                }
            }
        }
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int right = next[pos];
            if (removed[pos] || right < 0) {
                continue;
            }
            int currentRank = pairRank.get(key(ids[pos], ids[right]));
            if (currentRank < 0 || rankResult[currentRank] != rankResult[rank]) {
                continue;
            }
            ids[pos] = rankResult[rank];
            ends[pos] = ends[right];
            removed[right] = true;
            next[pos] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                int r = pairRank.get(key(ids[prev[pos]], ids[pos]));
                if (r >= 0) {
                    heap.push(((long) r << 32) | prev[pos]);
                }
            }
            if (next[pos] >= 0) {
                int r = pairRank.get(key(ids[pos], ids[next[pos]]));
                if (r >= 0) {
                    heap.push(((long) r << 32) | pos);
                }
            }
        }

        // 3. collect the surviving symbols
        int[] out = new int[count * 3];
        int k = 0;
        for (int i = 0; i < count; i++) {
            if (!removed[i]) {
                out[k++] = ids[i];
                out[k++] = starts[i];
                out[k++] = ends[i];
            }
        }
        return Arrays.copyOf(out, k);
    }

    private static int add(int[] ids, int[] starts, int[] ends, int count, int id, int start, int end) {
        ids[count] = id;
        starts[count] = start;
        ends[count] = end;
        return count + 1;
    }

    /** Open-addressing map from long keys to non-negative ints; {@link #get} returns -1 when absent. */
    static final class LongIntMap {
        private final long[] keys;
        private final int[] values;
        private final int mask;

        LongIntMap(int expected) {
            int capacity = Integer.highestOneBit(Math.max(expected, 8) * 2 - 1) * 2;
            keys = new long[capacity];
            values = new int[capacity];
            Arrays.fill(values, -1);
            mask = capacity - 1;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29)) & mask;
        }

        void put(long key, int value) {
            int i = slot(key);
            while (values[i] >= 0 && keys[i] != key) {
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = value;
        }

        int get(long key) {
            int i = slot(key);
            while (values[i] >= 0) {
                if (keys[i] == key) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return -1;
        }
    }

    /** Binary min-heap of longs. */
    static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(capacity, 4)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long value) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= value) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (heap[child] >= last) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
