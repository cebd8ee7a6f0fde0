package dev.convt.onednn;

/** oneDNN refused to build or run a configuration; the message names the layer, the shapes and oneDNN's reason. */
public final class OneDnnException extends RuntimeException {
    /**
     * @param message the layer, the shapes and oneDNN's reason
     * @param cause oneDNN's own error, as JavaCPP reported it
     */
    public OneDnnException(String message, Throwable cause) {
        super(message, cause);
    }
}
