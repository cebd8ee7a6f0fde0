package dev.convt;

import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * The native address of a direct buffer, through JavaCPP (JNI's {@code GetDirectBufferAddress}): Java 17 has no
 * public way to read it, and {@link Tensor#sharesStorageWith} needs it to tell whether two direct tensors overlap.
 */
final class DirectAddress {
    static final long NOT_RESOLVED = -1;
    static final long UNKNOWN = -2;

    /** Whether JavaCPP's natives loaded; when they do not, no address is ever known. */
    private static volatile boolean usable = true;

    private DirectAddress() {}

    /** The address of element 0 of {@code direct}, or {@link #UNKNOWN}. */
    static long of(FloatBuffer direct) {
        if (!usable) {
            return UNKNOWN;
        }
        try {
            FloatBuffer whole = direct.duplicate();
            whole.clear(); // JavaCPP offsets the address by the position; from position 0 it is element 0's
            long address = new FloatPointer(whole).address();
            return address == 0 ? UNKNOWN : address;
        } catch (LinkageError e) { // no natives for this platform: overlap of direct memory cannot be told
            usable = false;
            return UNKNOWN;
        }
    }
}
