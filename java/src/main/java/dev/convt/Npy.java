package dev.convt;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files: format versions 1.0 and 2.0 (3.0 too, whose header only differs in encoding), C order,
 * little-endian {@code <f4} or {@code <f8} in (f8 is rounded to float32), {@code <f4} out.
 *
 * <p>Anything else (Fortran order, big-endian, other dtypes, a truncated or malformed file) is refused with an
 * {@link NpyFormatException} naming the file and the problem.
 *
 * <pre>{@code
 * Tensor x = Npy.read(Path.of("x.npy"));      // e.g. from numpy.save("x.npy", a.astype("float32"))
 * Npy.write(Path.of("y.npy"), op.forward(x));
 * }</pre>
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** The largest file {@link #read} accepts: it reads the whole file into one byte array. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private Npy() {}

    /** Thrown for a file that is not a readable {@code .npy} of a supported kind. */
    public static final class NpyFormatException extends IOException {
        /**
         * @param file the file
         * @param problem what is wrong with it
         */
        public NpyFormatException(Path file, String problem) {
            super(file + ": " + problem);
        }
    }

    /**
     * Reads a {@code .npy} file into a heap tensor.
     *
     * @param file the file
     * @return its contents, as float32
     * @throws NpyFormatException when it is not a supported {@code .npy}
     * @throws IOException when it cannot be read
     */
    public static Tensor read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            // refuse before reading: a file this large cannot hold an array a tensor can hold
            throw new NpyFormatException(file, "file of " + size + " bytes is larger than the " + MAX_FILE_BYTES
                + " bytes convt reads");
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < MAGIC.length + 2) {
            throw new NpyFormatException(file, "truncated file: " + bytes.length + " bytes is too short for a .npy header");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new NpyFormatException(file, "not a .npy file (missing the \\x93NUMPY magic string)");
            }
        }
        int major = bytes[6] & 0xff;
        int minor = bytes[7] & 0xff;
        int headerLenSize;
        if (major == 1) {
            headerLenSize = 2;
        } else if (major == 2 || major == 3) {
            headerLenSize = 4;
        } else {
            throw new NpyFormatException(file, "unsupported .npy format version " + major + "." + minor
                + " (supported: 1.0, 2.0, 3.0)");
        }
        int lenOffset = 8;
        if (bytes.length < lenOffset + headerLenSize) {
            throw new NpyFormatException(file, "truncated file: the header length is missing");
        }
        long headerLen = headerLenSize == 2 ? (buf.getShort(lenOffset) & 0xffff) : (buf.getInt(lenOffset) & 0xffffffffL);
        long dataOffset = lenOffset + headerLenSize + headerLen;
        if (dataOffset > bytes.length) {
            throw new NpyFormatException(file, "truncated file: the header claims " + headerLen
                + " bytes but the file has only " + (bytes.length - lenOffset - headerLenSize) + " after the preamble");
        }
        String header = new String(bytes, lenOffset + headerLenSize, (int) headerLen,
            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        String descr = find(DESCR, header, file, "descr");
        String fortran = find(FORTRAN, header, file, "fortran_order");
        String shapeText = find(SHAPE, header, file, "shape");

        if (fortran.equals("True")) {
            throw new NpyFormatException(file, "Fortran-order arrays are not supported; save a C-order array "
                + "(numpy.ascontiguousarray)");
        }
        int itemSize;
        switch (descr) {
            case "<f4": itemSize = 4; break;
            case "<f8": itemSize = 8; break;
            case ">f4": case ">f8":
                throw new NpyFormatException(file, "big-endian dtype '" + descr + "' is not supported; "
                    + "use little-endian '<f4' or '<f8'");
            default:
                throw new NpyFormatException(file, "unsupported dtype '" + descr + "'; supported: '<f4' (float32), "
                    + "'<f8' (float64)");
        }
        long[] shape = parseShape(shapeText, file);
        long count = Tensor.elementCount(shape);
        if (count > Tensor.MAX_ELEMENTS) {
            throw new NpyFormatException(file, "array of shape " + java.util.Arrays.toString(shape)
                + " is too large (" + count + " elements)");
        }
        long expected = count * itemSize;
        long available = bytes.length - dataOffset;
        if (available < expected) {
            throw new NpyFormatException(file, "truncated file: shape " + java.util.Arrays.toString(shape) + " of '"
                + descr + "' needs " + expected + " data bytes but only " + available + " are present");
        }
        if (available > expected) {
            throw new NpyFormatException(file, "file has " + (available - expected)
                + " bytes after the data that shape " + java.util.Arrays.toString(shape) + " describes");
        }
        float[] data = new float[(int) count];
        buf.position((int) dataOffset);
        if (itemSize == 4) {
            buf.asFloatBuffer().get(data);
        } else {
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) buf.getDouble((int) dataOffset + 8 * i);
            }
        }
        return Tensor.wrap(data, shape);
    }

    private static String find(Pattern p, String header, Path file, String key) throws NpyFormatException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new NpyFormatException(file, "malformed header: no valid '" + key + "' entry in " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String text, Path file) throws NpyFormatException {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            if (p.endsWith("L")) {
                p = p.substring(0, p.length() - 1);
            }
            try {
                long d = Long.parseLong(p);
                if (d < 0) {
                    throw new NpyFormatException(file, "malformed header: negative dimension in shape (" + text + ")");
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(file, "malformed header: shape (" + text + ") is not a tuple of integers");
            }
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i);
        }
        return shape;
    }

    /**
     * Writes {@code tensor} as a little-endian float32 C-order {@code .npy} (format 1.0, or 2.0 when the header is
     * too long for 1.0). The file is written to a temporary sibling and renamed into place, so a failure never leaves
     * a partial file at {@code file}, and only a regular file is ever replaced (see {@link #checkWritable}).
     *
     * @param file where to write
     * @param tensor what to write
     * @throws IOException when writing fails
     */
    public static void write(Path file, Tensor tensor) throws IOException {
        Path target = checkWritable(file);
        long[] shape = tensor.shape();
        StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            dict.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) {
                dict.append(',');
            }
            if (i < shape.length - 1) {
                dict.append(' ');
            }
        }
        dict.append("), }");
        byte[] header1 = paddedHeader(dict, 10);
        boolean v2 = header1.length - 10 > 0xffff;
        byte[] header = v2 ? paddedHeader(dict, 12) : header1;
        ByteBuffer pre = ByteBuffer.allocate(v2 ? 12 : 10).order(ByteOrder.LITTLE_ENDIAN);
        pre.put(MAGIC).put((byte) (v2 ? 2 : 1)).put((byte) 0);
        int headerLen = header.length - pre.capacity();
        if (v2) {
            pre.putInt(headerLen);
        } else {
            pre.putShort((short) headerLen);
        }
        System.arraycopy(pre.array(), 0, header, 0, pre.capacity());

        ByteBuffer data = ByteBuffer.allocate(tensor.elementCount() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(tensor.buffer());

        Path dir = target.toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        } catch (FileSystemException e) { // it names the temporary file, which the user never heard of
            throw rename(e, file, "cannot create a file in " + dir);
        }
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                out.write(header);
                out.write(data.array());
            }
            try {
                // rename(2): replaces a regular file atomically and refuses to replace a directory
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                checkWritable(file);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (FileSystemException e) {
            throw tmp.toString().equals(e.getFile()) || target.toString().equals(e.getFile())
                ? rename(e, file, e.getReason()) : e;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Where {@link #write} would put {@code file}: the path itself, or the regular file a symbolic link points to.
     * Refuses (naming {@code file}) a directory or any other existing thing that is not a regular file, a symbolic
     * link to nothing, and a folder that does not exist: nothing but a regular file the caller named is replaced.
     *
     * @param file the path a caller asked to write
     * @return the regular file that would be written (the path itself, or where its symbolic link points)
     * @throws IOException when {@code file} may not be written, with a message naming it
     */
    public static Path checkWritable(Path file) throws IOException {
        Path target = file;
        if (Files.isSymbolicLink(file)) {
            try {
                target = file.toRealPath();
            } catch (NoSuchFileException e) {
                throw new FileSystemException(file.toString(), null, "is a symbolic link to nothing; not replacing it");
            }
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileSystemException(file.toString(), null, "is a directory; name a file to write");
            }
            if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileSystemException(file.toString(), null, "is not a regular file; not replacing it");
            }
        }
        Path parent = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            String folder = file.getParent() != null ? file.getParent().toString() : parent.toString();
            if (Files.exists(parent)) {
                throw new FileSystemException(file.toString(), null, folder + " is not a folder");
            }
            throw new NoSuchFileException(file.toString(), null, "the folder " + folder + " does not exist");
        }
        return target;
    }

    /** The same kind of failure, about the caller's {@code file}. */
    private static FileSystemException rename(FileSystemException e, Path file, String reason) {
        FileSystemException renamed;
        if (e instanceof AccessDeniedException) {
            renamed = new AccessDeniedException(file.toString(), null, reason);
        } else if (e instanceof NoSuchFileException) {
            renamed = new NoSuchFileException(file.toString(), null, reason);
        } else {
            renamed = new FileSystemException(file.toString(), null, reason);
        }
        renamed.initCause(e);
        return renamed;
    }

    /** Preamble space plus the dict, padded with spaces and a newline so the data starts 64-byte aligned. */
    private static byte[] paddedHeader(StringBuilder dict, int preamble) {
        int unpadded = preamble + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        byte[] out = new byte[total];
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(text, 0, out, preamble, text.length);
        for (int i = preamble + text.length; i < total - 1; i++) {
            out[i] = ' ';
        }
        out[total - 1] = '\n';
        return out;
    }
}
