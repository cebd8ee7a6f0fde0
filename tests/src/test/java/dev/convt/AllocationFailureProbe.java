package dev.convt;

import org.bytedeco.javacpp.Pointer;

/** For LeadDefectsTest (defect 8): compile a layer whose bias allocation exceeds JavaCPP's maxBytes. */
public final class AllocationFailureProbe {
    public static void main(String[] args) {
        ConvTransposeLayer small = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(1).build();
        Backends.onednn().compile(small, Tensor.zeros(1, 1, 1), Tensor.zeros(1)).close(); // engine and natives
        long baseline = Pointer.totalBytes();
        // weights 2 MB (fit under 3 MB), then the bias's 2 MB does not
        ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(500_000).kernelSize(1).build();
        try {
            Backends.onednn().compile(l, Tensor.zeros(l.weightShape()), Tensor.zeros(500_000)).close();
            System.out.println("no failure: the limit did not bite");
        } catch (Throwable t) {
            System.out.println("failed with " + t);
        }
        long after = Pointer.totalBytes();
        System.out.println(after == baseline ? "totalBytes back to baseline"
            : "LEAK: totalBytes " + after + " after the failure, baseline " + baseline);
    }
}
