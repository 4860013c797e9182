package dev.transact4j.nn.safetensors;

/**
 * Element types of the safetensors format, under the names its JSON header uses.
 *
 * <p>All types are stored little-endian. {@code BOOL} takes one byte per element, 0 or 1.
 */
public enum DType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U64(8),
    U32(4),
    U16(2),
    U8(1),
    BOOL(1),
    F8_E4M3(1),
    F8_E5M2(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Returns the number of bytes one element takes. */
    public int byteSize() {
        return byteSize;
    }

    /** Returns whether {@link SafeTensorsFile#readFloat32} converts this type. */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Returns the type named {@code name} in a header, or null when the name is unknown. */
    static DType fromHeaderName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return type;
            }
        }
        return null;
    }

    /** Returns the names accepted in a header, for error messages. */
    static String knownNames() {
        StringBuilder names = new StringBuilder();
        for (DType type : values()) {
            if (names.length() > 0) {
                names.append(", ");
            }
            names.append(type.name());
        }
        return names.toString();
    }
}
