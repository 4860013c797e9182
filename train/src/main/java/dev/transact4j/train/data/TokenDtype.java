package dev.transact4j.train.data;

import java.util.Locale;

/** Width of one token id in a flat token file. Ids are unsigned and little-endian. */
public enum TokenDtype {
    UINT16(2, 0xFFFFL),
    UINT32(4, 0xFFFF_FFFFL);

    private final int bytes;
    private final long maxId;

    TokenDtype(int bytes, long maxId) {
        this.bytes = bytes;
        this.maxId = maxId;
    }

    /** Returns the bytes per token id. */
    public int bytes() {
        return bytes;
    }

    /** Returns the largest id this width can store. */
    public long maxId() {
        return maxId;
    }

    /** Returns the numpy-style name written to cache sidecars: {@code uint16} or {@code uint32}. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code uint16} or {@code uint32}.
     *
     * @throws DatasetException for any other name
     */
    public static TokenDtype parse(String name) {
        for (TokenDtype dtype : values()) {
            if (dtype.jsonName().equals(name)) {
                return dtype;
            }
        }
        throw new DatasetException("Unknown token dtype \"" + name + "\": expected uint16 or uint32");
    }
}
