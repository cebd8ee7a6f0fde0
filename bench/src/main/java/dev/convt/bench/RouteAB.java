package dev.convt.bench;

import dev.convt.Layout;
import dev.convt.ShapeList.Shape;
import dev.convt.Tensor;
import dev.convt.onednn.OneDnnBackend;
import dev.convt.onednn.OneDnnOp;

import java.util.Arrays;

/**
 * An interleaved A/B of oneDNN routes on one shape, in one JVM: each route compiled and prepared, then the ops
 * called in turn, a block of calls each, many times over, so that a slow stretch of a shared machine hits every route
 * alike (separate JMH runs of two builds moved by 30% here). Prints each route's median and quartiles of the per-call
 * times, and its largest difference from the first route's output.
 *
 * <pre>{@code
 * java -cp bench/target/benchmarks.jar dev.convt.bench.RouteAB dcgan_out matmul-col2im,deconv-plain [blocks] [calls]
 * }</pre>
 *
 * Direct tensors, channels-first, the shape list's batch size; {@code blocks} (default 40) rounds of {@code calls}
 * (default 5) calls per route, after a warm-up of 20 rounds. A route written {@code ROUTE@heap} is fed tensors that
 * wrap {@code float[]}s instead (the caller's-array path), so {@code matmul-col2im,matmul-col2im@heap} measures what
 * the heap path adds to one route. A route may end with {@code [KEY=VALUE]}: that system property is set while its
 * calls run (and cleared after), so a scratch build that reads a property on each call can compare two variants of
 * one route in one JVM ({@code deconv-any@heap,deconv-any@heap[convt.scratch.x=true]}).
 */
public final class RouteAB {

    private static final int WARMUP_ROUNDS = 20;

    private RouteAB() {}

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: RouteAB SHAPE ROUTE,ROUTE[,...] [BLOCKS] [CALLS]");
            System.exit(2);
        }
        Shape shape = BenchSupport.shape(args[0], 0);
        String[] routes = args[1].split(",");
        int blocks = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        int calls = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        BenchSupport.Parameters p = BenchSupport.Parameters.of(shape.layer());
        float[] values = BenchSupport.random((int) Tensor.elementCount(shape.inputShape()), 3);
        String[] labels = routes.clone();
        String[] properties = new String[routes.length];
        for (int i = 0; i < routes.length; i++) {
            int open = routes[i].indexOf('[');
            if (open >= 0 && routes[i].endsWith("]") && routes[i].indexOf('=', open) > 0) {
                properties[i] = routes[i].substring(open + 1, routes[i].length() - 1);
                routes[i] = routes[i].substring(0, open);
            }
        }
        Tensor[] xs = new Tensor[routes.length];
        Tensor[] ys = new Tensor[routes.length];
        OneDnnOp[] ops = new OneDnnOp[routes.length];
        try {
            for (int i = 0; i < routes.length; i++) {
                boolean heap = routes[i].endsWith("@heap");
                String route = heap ? routes[i].substring(0, routes[i].length() - "@heap".length()) : routes[i];
                ops[i] = OneDnnBackend.INSTANCE.compile(shape.layer(), p.weight(), p.bias(), Layout.CHANNELS_FIRST,
                    route);
                long[] outShape = shape.layer().outputShape(shape.inputShape());
                xs[i] = heap ? Tensor.wrap(values.clone(), shape.inputShape())
                    : Tensor.allocateDirect(shape.inputShape()).copyFrom(values);
                ys[i] = heap ? Tensor.zeros(outShape) : Tensor.allocateDirect(outShape);
                ops[i].prepare(xs[i].shape());
                System.out.println(routes[i] + ": " + ops[i].implementation());
            }
            // 20 warm-up rounds, then the timed blocks, every round calling each route in turn
            double[][] micros = new double[routes.length][blocks * calls];
            for (int round = -WARMUP_ROUNDS; round < blocks; round++) {
                int at = round * calls;
                for (int i = 0; i < ops.length; i++) {
                    int r = i;
                    withProperty(properties[i], () -> {
                        for (int c = 0; c < calls; c++) {
                            long t0 = System.nanoTime();
                            ops[r].forward(xs[r], ys[r]);
                            if (at >= 0) {
                                micros[r][at + c] = (System.nanoTime() - t0) / 1e3;
                            }
                        }
                    });
                }
            }
            float[][] outputs = new float[ops.length][];
            for (int i = 0; i < ops.length; i++) {
                int r = i;
                withProperty(properties[i], () -> outputs[r] = ops[r].forward(xs[r]).toArray());
            }
            for (int i = 0; i < ops.length; i++) {
                float[] got = outputs[i];
                double diff = 0;
                for (int e = 0; e < got.length; e++) {
                    diff = Math.max(diff, Math.abs(got[e] - outputs[0][e]));
                }
                double[] t = micros[i];
                Arrays.sort(t);
                System.out.printf("%-22s median %10.1f us   p25 %10.1f   p75 %10.1f   max |diff| vs %s %.2e%n",
                    labels[i], t[t.length / 2], t[t.length / 4], t[3 * t.length / 4], labels[0], diff);
            }
        } finally {
            for (OneDnnOp op : ops) {
                if (op != null) {
                    op.close();
                }
            }
        }
    }

    /** Runs {@code body} with a route's {@code KEY=VALUE} system property set, if it has one, and clears it after. */
    private static void withProperty(String keyValue, Runnable body) {
        if (keyValue == null) {
            body.run();
            return;
        }
        String key = keyValue.substring(0, keyValue.indexOf('='));
        System.setProperty(key, keyValue.substring(key.length() + 1));
        try {
            body.run();
        } finally {
            System.clearProperty(key);
        }
    }
}
