/**
 * The {@code convt} command line ({@code java -jar java/target/convt.jar}), built on picocli. Only this package
 * prints; it is also the only user of picocli, an optional dependency that library users do not inherit.
 *
 * <pre>{@code
 * int exitCode = ConvtCli.execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), "--version");
 * }</pre>
 */
package dev.convt.cli;
