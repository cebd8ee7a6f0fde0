package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.lang.ref.WeakReference;
import java.nio.FloatBuffer;

/**
 * How one side (input or output) of an execution reaches the oneDNN memory object that reads or writes it. A direct
 * tensor is used in place; a heap tensor goes through a staging buffer allocated on first use (one copy each way,
 * straight between the caller's array and the buffer oneDNN reads or writes).
 *
 * <p>Rebinding the memory ({@code set_data_handle}, a JNI call) happens only when the caller passes another tensor.
 * The last tensor is remembered through a weak reference, so the binding never keeps a caller's buffer alive between
 * calls: a dropped tensor simply reads as "another tensor" next time.
 */
final class Binding {
    private final memory handle;
    private final int count;
    private final Owner owner;
    private FloatPointer staging;
    private FloatBuffer stagingView;
    private WeakReference<Tensor> last = new WeakReference<>(null);
    private Pointer lastPointer;
    /** A view of the last direct tensor's storage, for {@link #target}. */
    private final TensorView directView = new TensorView();
    private Pointer bound;

    /** {@code handle} is a memory object created with a null data handle; {@code owner} keeps the staging buffer. */
    Binding(memory handle, int count, Owner owner) {
        this.handle = handle;
        this.count = count;
        this.owner = owner;
    }

    memory memory() {
        return handle;
    }

    /** The pointer bound by the last {@code bind*} call (the caller's direct buffer, or the staging buffer). */
    Pointer bound() {
        return bound;
    }

    /**
     * The buffer oneDNN writes for the tensor last bound: the caller's own (direct) or the staging buffer (heap).
     * Valid after {@link #bindOutput}.
     */
    FloatBuffer target(Tensor t) {
        return t.isDirect() ? directView.of(t) : stagingView;
    }

    /** Binds an input: direct in place, heap copied into the staging buffer. */
    void bindInput(Tensor t) {
        bind(t);
        if (!t.isDirect()) {
            t.copyTo(stagingView);
        }
    }

    /** Binds an output; call {@link #finishOutput} after the stream has finished. */
    void bindOutput(Tensor t) {
        bind(t);
    }

    /** Copies a heap output out of the staging buffer. */
    void finishOutput(Tensor t) {
        if (!t.isDirect()) {
            t.copyFrom(stagingView);
        }
    }

    private void bind(Tensor t) {
        Pointer p;
        if (t.isDirect()) {
            if (last.get() != t) {
                lastPointer = new FloatPointer(t.buffer());
                last = new WeakReference<>(t);
            }
            p = lastPointer;
        } else {
            if (staging == null) {
                staging = owner.keep(new FloatPointer(count));
                stagingView = staging.asBuffer();
            }
            p = staging;
        }
        if (p != bound) {
            handle.set_data_handle(p);
            bound = p;
        }
    }
}
