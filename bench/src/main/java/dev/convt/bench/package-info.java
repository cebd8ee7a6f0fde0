/**
 * JMH benchmarks over the shape list ({@code bench/shapes.txt}); not part of the library's API. Build with
 * {@code mvn -q -DskipTests package} and run with {@code java -jar bench/target/benchmarks.jar}; the figures and
 * the commands that measured them are in {@code bench/RESULTS.md}.
 */
package dev.convt.bench;
