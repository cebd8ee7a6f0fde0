package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** .npy round trips, the formats read, and every malformed-file error. */
class NpyTest {

    @TempDir
    Path dir;

    /** A .npy file as NumPy lays it out: magic, version, header length, dict padded to 64 bytes, data. */
    static byte[] npy(int major, String dict, byte[] data) {
        int lenSize = major == 1 ? 2 : 4;
        int pre = 8 + lenSize;
        int total = (pre + dict.length() + 1 + 63) / 64 * 64;
        StringBuilder h = new StringBuilder(dict);
        while (pre + h.length() + 1 < total) {
            h.append(' ');
        }
        h.append('\n');
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) h.length());
        } else {
            b.putInt(h.length());
        }
        b.put(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        b.put(data);
        return b.array();
    }

    static byte[] f4(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    static byte[] f8(double... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void roundTripsShapes() throws IOException {
        Random rnd = new Random(3);
        for (long[] shape : new long[][] {{7}, {1, 1, 9}, {2, 3, 4, 5}, {}, {0, 3}, {1, 2, 1, 3, 2}}) {
            Tensor t = TestSupport.random(rnd, shape);
            Path p = dir.resolve("t.npy");
            Npy.write(p, t);
            Tensor back = Npy.read(p);
            assertArrayEquals(shape, back.shape());
            assertArrayEquals(t.toArray(), back.toArray());
            assertEquals(0, Files.size(p) % 4);
        }
    }

    @Test
    void writesWhatNumpyWrites() throws IOException {
        Path p = dir.resolve("seed.npy");
        Npy.write(p, Tensor.of(new float[] {1, 2, 4}, 1, 3));
        byte[] expected = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", f4(1, 2, 4));
        assertArrayEquals(expected, Files.readAllBytes(p));
        Path one = dir.resolve("one.npy");
        Npy.write(one, Tensor.of(new float[] {5}, 1));
        assertTrue(new String(Files.readAllBytes(one), StandardCharsets.ISO_8859_1).contains("'shape': (1,)"));
    }

    @Test
    void readsFloat64AndVersion2() throws IOException {
        Tensor d = Npy.read(file("d.npy",
            npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f8(1.5, -2, 3.25, 1e-3))));
        assertArrayEquals(new long[] {2, 2}, d.shape());
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 1e-3f}, d.toArray());
        Tensor v2 = Npy.read(file("v2.npy",
            npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4(1, 2, 3))));
        assertArrayEquals(new float[] {1, 2, 3}, v2.toArray());
    }

    private void refuses(String name, byte[] bytes, String problem) throws IOException {
        Path p = file(name, bytes);
        Npy.NpyFormatException e = assertThrows(Npy.NpyFormatException.class, () -> Npy.read(p));
        assertEquals(p + ": " + problem, e.getMessage());
    }

    @Test
    void malformedFiles() throws IOException {
        refuses("fortran.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4(1, 2, 3, 4)),
            "Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)");
        refuses("big.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", f4(1)),
            "big-endian dtype '>f4' is not supported; use little-endian '<f4' or '<f8'");
        refuses("int.npy", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", f4(1)),
            "unsupported dtype '<i4'; supported: '<f4' (float32), '<f8' (float64)");
        byte[] whole = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f4(1, 2, 3, 4));
        refuses("short.npy", Arrays.copyOf(whole, whole.length - 3),
            "truncated file: shape [4] of '<f4' needs 16 data bytes but only 13 are present");
        refuses("long.npy", Arrays.copyOf(whole, whole.length + 4),
            "file has 4 bytes after the data that shape [4] describes");
        refuses("header.npy", Arrays.copyOf(whole, 40),
            "truncated file: the header claims 118 bytes but the file has only 30 after the preamble");
        refuses("tiny.npy", new byte[] {(byte) 0x93, 'N'},
            "truncated file: 2 bytes is too short for a .npy header");
        refuses("magic.npy", "PK\3\4 this is a zip file".getBytes(StandardCharsets.ISO_8859_1),
            "not a .npy file (missing the \\x93NUMPY magic string)");
        byte[] v9 = whole.clone();
        v9[6] = 9;
        refuses("v9.npy", v9, "unsupported .npy format version 9.0 (supported: 1.0, 2.0, 3.0)");
        refuses("noshape.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, }", f4()),
            "malformed header: no valid 'shape' entry in {'descr': '<f4', 'fortran_order': False, }");
        refuses("badshape.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (a, 2), }", f4()),
            "malformed header: shape (a, 2) is not a tuple of integers");
    }

    @Test
    void missingFileIsAnIOException() {
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Npy.read(dir.resolve("absent.npy")));
    }
}
