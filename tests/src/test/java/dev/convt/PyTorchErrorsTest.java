package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every verdict libtorch 2.7.1 gave in errors.tsv, reproduced: PyTorch's functional form
 * ({@link ConvTransposeLayer#functional}, what {@code convt run/check} use) accepts the same calls with the same output
 * shape and refuses the others with a message that starts with PyTorch's, word for word, and in PyTorch's order when
 * several arguments are wrong. The module form (builder, compile, forward) gives the same messages for one wrong
 * argument, except where PyTorch's module constructor speaks first (groups, channels not divisible by groups).
 *
 * <p>Where PyTorch's text comes from an incidental operation rather than a check, convt keeps the check's text:
 * a batch of 2 or more too small for its output reports "could not construct a memory descriptor using a format tag"
 * (PyTorch then runs oneDNN, which fails), an empty batch whose output would be negative reports "only one dimension
 * can be inferred" (a view); convt reports "Output size is too small" for both.
 */
class PyTorchErrorsTest {

    private static String list(long[] v) {
        return Arrays.stream(v).mapToObj(Long::toString).collect(Collectors.joining(","));
    }

    /** What convt says for a row: "OK shape" or "ERROR message" (only IllegalArgumentException is a verdict). */
    private static String functional(String[] r) {
        long[] input = PyTorchFiles.longs(r[1]);
        try {
            ConvTransposeLayer l = ConvTransposeLayer.functional(input, PyTorchFiles.longs(r[2]),
                PyTorchFiles.longs(r[3]), PyTorchFiles.ints(r[4]), PyTorchFiles.ints(r[5]), PyTorchFiles.ints(r[6]),
                Integer.parseInt(r[7]), PyTorchFiles.ints(r[8]));
            return "OK " + list(l.outputShape(input));
        } catch (IllegalArgumentException e) {
            return "ERROR " + e.getMessage();
        }
    }

    @Test
    void functionalFormGivesPyTorchsVerdicts() {
        List<String[]> rows = PyTorchFiles.rows("errors.tsv");
        assertTrue(rows.size() >= 50, "errors.tsv has " + rows.size() + " rows");
        List<String> wrong = new ArrayList<>();
        for (String[] r : rows) {
            String pytorch = r[9];
            String ours = functional(r);
            boolean same = pytorch.startsWith("OK ") ? ours.equals(pytorch) : ours.startsWith(pytorch);
            if (!same) {
                wrong.add(r[0] + ":\n  pytorch: " + pytorch + "\n  convt:   " + ours);
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + rows.size() + " differ from PyTorch:\n"
            + String.join("\n", wrong));
    }

    /** The same calls through the module form, where only one argument is wrong. */
    @Test
    void moduleFormGivesTheSameMessages() {
        int checked = 0;
        List<String> wrong = new ArrayList<>();
        for (String[] r : PyTorchFiles.rows("errors.tsv")) {
            long[] weight = PyTorchFiles.longs(r[2]);
            if (r[0].startsWith("first_") || weight.length < 3) {
                continue; // several wrong arguments: the module judges some at construction; no module for 2d weights
            }
            int groups = Integer.parseInt(r[7]);
            String expected = r[9];
            if (groups <= 0) {
                expected = "ERROR groups must be a positive integer"; // torch/nn/modules/conv.py, _ConvNd.__init__
            } else if (weight[0] % groups != 0) {
                expected = "ERROR in_channels must be divisible by groups";
            }
            String ours;
            long[] input = PyTorchFiles.longs(r[1]);
            long[] bias = PyTorchFiles.longs(r[3]);
            try {
                int rank = weight.length - 2;
                int[] kernel = new int[rank];
                for (int i = 0; i < rank; i++) {
                    kernel[i] = (int) weight[2 + i];
                }
                ConvTransposeLayer l = ConvTransposeLayer.builder(rank).inChannels((int) weight[0])
                    .outChannels((int) (weight[1] * groups)).kernelSize(kernel).stride(PyTorchFiles.ints(r[4]))
                    .padding(PyTorchFiles.ints(r[5])).outputPadding(PyTorchFiles.ints(r[6])).groups(groups)
                    .dilation(PyTorchFiles.ints(r[8])).bias(bias != null).build();
                try (CompiledConvTranspose op = Backends.reference().compile(l, Tensor.zeros(weight),
                    bias == null ? null : Tensor.zeros(bias))) {
                    ours = "OK " + list(op.outputShape(input));
                }
            } catch (IllegalArgumentException e) {
                ours = "ERROR " + e.getMessage();
            }
            checked++;
            boolean same = expected.startsWith("OK ") ? ours.equals(expected) : ours.startsWith(expected);
            if (!same) {
                wrong.add(r[0] + ":\n  expected: " + expected + "\n  convt:    " + ours);
            }
        }
        assertTrue(checked >= 40, checked + " rows checked");
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + checked + " differ:\n" + String.join("\n", wrong));
    }
}
