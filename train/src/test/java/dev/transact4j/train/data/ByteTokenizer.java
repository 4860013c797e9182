package dev.transact4j.train.data;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Byte-level tokenizer for tests: each UTF-8 byte is its own id (0 to 255) and EOS is 256. It is
 * a complete tokenizer, and simple enough that a test can compute the expected ids by hand. It
 * counts its calls, so a test can tell a cache hit from a rebuild.
 */
final class ByteTokenizer implements TokenEncoder {

    static final int EOS = 256;

    private final String fingerprint;
    final AtomicInteger calls = new AtomicInteger();

    ByteTokenizer() {
        this("bytes");
    }

    ByteTokenizer(String fingerprint) {
        this.fingerprint = fingerprint;
    }

    @Override
    public int[] encode(String text) {
        calls.incrementAndGet();
        return ids(text);
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    /** Returns the ids of {@code text}, without EOS. */
    static int[] ids(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = Byte.toUnsignedInt(bytes[i]);
        }
        return ids;
    }

    /** Returns the ids of the documents, each followed by EOS, as the dataset concatenates them. */
    static int[] concatenated(String... documents) {
        int total = 0;
        for (String document : documents) {
            total += ids(document).length + 1;
        }
        int[] out = new int[total];
        int at = 0;
        for (String document : documents) {
            int[] ids = ids(document);
            System.arraycopy(ids, 0, out, at, ids.length);
            at += ids.length;
            out[at++] = EOS;
        }
        return out;
    }
}
