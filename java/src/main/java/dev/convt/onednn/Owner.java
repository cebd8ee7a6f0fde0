package dev.convt.onednn;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * Native objects that share one lifetime, released together in reverse order of acquisition (a memory object
 * before the buffer it wraps). Objects are built inside a {@code PointerScope} that frees every temporary; {@link
 * #keep} takes an extra reference so that the kept ones survive the scope until {@link #close()}.
 */
final class Owner implements AutoCloseable {
    private final List<Pointer> owned = new ArrayList<>();

    synchronized <P extends Pointer> P keep(P p) {
        p.retainReference();
        owned.add(p);
        return p;
    }

    @Override
    public synchronized void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
        owned.clear();
    }
}
