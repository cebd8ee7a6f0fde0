package dev.convt.onednn;

import dev.convt.Tensor;

import java.lang.ref.WeakReference;
import java.nio.FloatBuffer;

/**
 * A view of a caller's tensor's elements, made again only when the caller passes another tensor, so that the steady
 * state allocates nothing. Both the tensor and the view are held weakly: a view references the tensor's storage, and
 * an op never keeps a caller's storage alive between calls; a view collected meanwhile is simply made again.
 */
final class TensorView {
    private WeakReference<Tensor> last = new WeakReference<>(null);
    private WeakReference<FloatBuffer> view = new WeakReference<>(null);

    /** {@return a view of {@code t}'s elements, position 0; index it absolutely} */
    FloatBuffer of(Tensor t) {
        FloatBuffer v = view.get();
        if (v == null || last.get() != t) {
            v = t.buffer();
            view = new WeakReference<>(v);
            last = new WeakReference<>(t);
        }
        return v;
    }
}
