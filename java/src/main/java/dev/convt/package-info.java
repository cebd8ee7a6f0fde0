/**
 * The library: a layer described once ({@link dev.convt.ConvTransposeLayer}, PyTorch's {@code ConvTranspose1d/2d/3d}
 * semantics), interchangeable backends chosen in one place ({@link dev.convt.Backends}), the op they compile
 * ({@link dev.convt.CompiledConvTranspose}), float32 tensors ({@link dev.convt.Tensor}) and {@code .npy} files
 * ({@link dev.convt.Npy}).
 *
 * <pre>{@code
 * ConvTransposeLayer layer = ConvTransposeLayer.builder(2)            // ConvTranspose2d(512, 256, 4, stride=2, padding=1)
 *     .inChannels(512).outChannels(256).kernelSize(4).stride(2).padding(1)
 *     .build();
 * try (CompiledConvTranspose op = Backends.compile(layer, weight, bias)) {   // oneDNN when it can, else Java
 *     Tensor y = op.forward(x);                                       // [N, 256, 2H, 2W]
 * }
 * }</pre>
 *
 * <p>Nothing here prints: diagnostics go to {@link java.lang.System.Logger} under the class names
 * ({@code dev.convt.Backends} logs each choice at {@code DEBUG}).
 */
package dev.convt;
