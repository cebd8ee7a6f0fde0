package dev.convt;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a convention's entry point ({@link PyTorch#convTranspose}, {@link Onnx#convTranspose},
 * {@link Keras#convTranspose}) hands back: the internal {@link ConvTransposeLayer}, the layout of the framework's
 * input and output tensors, the output shape for the input shape given, and the conversion of the framework's
 * weight to the internal {@code [Cin, Cout/groups, *k]}.
 *
 * <pre>{@code
 * ConvertedLayer c = Keras.convTranspose(new Keras.Attributes().strides(2).padding("same"),
 *     new long[] {8, 16, 16, 64}, new long[] {4, 4, 32, 64}, new long[] {32});
 * try (CompiledConvTranspose op = c.compile(kerasKernel, bias)) {
 *     Tensor y = op.forward(x);                        // [8, 32, 32, 32], channels-last like Keras
 * }
 * }</pre>
 *
 * <p>The derived pads hold for {@link #inputShape()}: where the framework derives them from the input size (ONNX
 * {@code SAME_*} and {@code output_shape}, Keras {@code same}), another input size needs another conversion.
 */
public final class ConvertedLayer {

    private final ConvTransposeLayer layer;
    private final Layout layout;
    private final WeightLayout weightLayout;
    private final long[] inputShape;
    private final long[] outputShape;
    private final long[] weightShape;

    ConvertedLayer(ConvTransposeLayer layer, Layout layout, WeightLayout weightLayout, long[] inputShape,
                   long[] weightShape) {
        this.layer = Objects.requireNonNull(layer, "layer");
        this.layout = Objects.requireNonNull(layout, "layout");
        this.weightLayout = Objects.requireNonNull(weightLayout, "weightLayout");
        this.inputShape = inputShape.clone();
        this.weightShape = weightShape.clone();
        this.outputShape = layout.fromChannelsFirst(layer.outputShape(layout.toChannelsFirst(inputShape, layer.rank())),
            layer.rank());
    }

    /** {@return the internal layer} Its {@link ConvTransposeLayer#describe()} tells the convention and the derivation. */
    public ConvTransposeLayer layer() { return layer; }

    /**
     * {@return the layout of the framework's input and output tensors (Keras {@code channels_last}:
     * {@code CHANNELS_LAST})}
     */
    public Layout layout() { return layout; }

    /** {@return how the framework stores the weight} */
    public WeightLayout weightLayout() { return weightLayout; }

    /** {@return the input shape the layer was derived for, in {@link #layout()} (a copy)} */
    public long[] inputShape() { return inputShape.clone(); }

    /** {@return the output shape for {@link #inputShape()}, in {@link #layout()} (a copy)} */
    public long[] outputShape() { return outputShape.clone(); }

    /** {@return the framework's weight shape, in {@link #weightLayout()} (a copy)} */
    public long[] weightShape() { return weightShape.clone(); }

    /**
     * The framework's weight converted to the internal layout {@code [Cin, Cout/groups, *k]} (a new tensor).
     *
     * @param frameworkWeight the weight as the framework stores it: {@link #weightShape()}, in {@link #weightLayout()}
     * @return a new heap tensor holding it as {@code [Cin, Cout/groups, *k]}
     * @throws IllegalArgumentException when its shape is not {@link #weightShape()}
     */
    public Tensor weight(Tensor frameworkWeight) {
        Objects.requireNonNull(frameworkWeight, "weight");
        if (!frameworkWeight.hasShape(weightShape)) {
            throw new IllegalArgumentException("the weight was converted for shape " + Arrays.toString(weightShape)
                + " " + weightLayout.pattern() + ", but got " + Arrays.toString(frameworkWeight.shape()));
        }
        return weightLayout.toInternal(frameworkWeight);
    }

    /**
     * Compiles on {@code backend} with the framework's weight (converted here) and bias ({@code null} for none).
     *
     * @param backend the backend to compile on
     * @param frameworkWeight the weight as the framework stores it: {@link #weightShape()}, in {@link #weightLayout()}
     * @param bias the bias, {@code [outChannels]}, or {@code null} for a layer without bias
     * @return the compiled op, for input and output tensors in {@link #layout()}; the caller closes it
     * @throws IllegalArgumentException when the weight or the bias does not fit the layer
     * @throws UnsupportedOperationException when {@code backend} is unavailable or cannot run the layer
     */
    public CompiledConvTranspose compile(Backend backend, Tensor frameworkWeight, Tensor bias) {
        return backend.compile(layer, weight(frameworkWeight), bias, layout);
    }

    /**
     * Compiles on the backend {@link Backends#select(ConvTransposeLayer)} chooses.
     *
     * @param frameworkWeight the weight as the framework stores it: {@link #weightShape()}, in {@link #weightLayout()}
     * @param bias the bias, {@code [outChannels]}, or {@code null} for a layer without bias
     * @return the compiled op, for input and output tensors in {@link #layout()}; the caller closes it
     * @throws IllegalArgumentException when the weight or the bias does not fit the layer, or the configured backend
     *     id is unknown
     * @throws UnsupportedOperationException when a forced backend is unavailable or cannot run the layer
     */
    public CompiledConvTranspose compile(Tensor frameworkWeight, Tensor bias) {
        return compile(Backends.select(layer).backend(), frameworkWeight, bias);
    }

    @Override
    public String toString() {
        return layer + " for input " + Arrays.toString(inputShape) + " -> " + Arrays.toString(outputShape) + " ("
            + layout.formatName(layer.rank()) + ")";
    }
}
