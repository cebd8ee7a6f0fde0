/**
 * The fast pure-Java backend ({@code java}): {@link dev.convt.purejava.JavaBackend}, a stride-phase decomposition
 * into cache-blocked matrix products, multi-threaded and deterministic, with an optional Vector API kernel.
 *
 * <pre>{@code
 * try (CompiledConvTranspose op = Backends.java().compile(layer, weight, bias)) {
 *     Tensor y = op.forward(x);
 * }
 * }</pre>
 */
package dev.convt.purejava;
