package dev.transact4j.nn.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/** Thrown when a safetensors file or index breaks the format; the message names the file and the tensor. */
public class SafeTensorsFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    public SafeTensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SafeTensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
