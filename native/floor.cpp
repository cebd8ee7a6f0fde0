// convt native floor: main, command line, timing, table, CSV, self-test. See native/README.md.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "floor.hpp"

namespace {

const char *kUsage = R"(usage: floor [options]      (normally: bash native/floor.sh [options])

Times the oneDNN primitives convt uses, per shape of bench/shapes.txt, and prints a table.

  --shapes FILE      shape list (default: <repo>/bench/shapes.txt)
  --shape NAME[,..]  only these shapes (repeatable)
  --route NAME[,..]  only these routes or route families, e.g. deconv, deconv:any, matmul-shuffle (repeatable)
  --batch N          override every shape's batch size
  --iters N          timed iterations per route (default: enough for --seconds, at least 5)
  --seconds S        target time per route when --iters is not given (default 1)
  --csv FILE         also write shape,route,ms_median,gflops,pct_peak,impl rows to FILE
  --verbose          print each route's notes (layouts, reorder implementations) under its row
  --no-peak          skip the FMA peak measurement
  --selftest         check every route against a scalar reference on small layers; exit 1 on a mismatch
  --help
)";

struct Options {
    std::string shapes = std::string(CONVT_ROOT) + "/bench/shapes.txt";
    std::vector<std::string> names, routes;
    int64_t batch = 0;
    int iters = 0;
    double seconds = 1.0;
    std::string csv;
    bool verbose = false, peak = true, selftest = false;
};

[[noreturn]] void usage_error(const std::string &msg) {
    std::cerr << "floor: " << msg << "\n(run with --help for the options)\n";
    std::exit(2);
}

void split_into(const std::string &v, std::vector<std::string> &out) {
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
}

Options parse_args(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            size_t eq = a.find('=');
            if (eq != std::string::npos) return a.substr(eq + 1);
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        auto is = [&](const char *name) { return a == name || a.rfind(std::string(name) + "=", 0) == 0; };
        auto number = [&](const std::string &v, double lo) {
            char *end = nullptr;
            double d = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || !(d >= lo)) usage_error("bad value for " + a + ": '" + v + "'");
            return d;
        };
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else if (is("--shapes")) o.shapes = value();
        else if (is("--shape")) split_into(value(), o.names);
        else if (is("--route")) split_into(value(), o.routes);
        else if (is("--batch")) o.batch = (int64_t)number(value(), 1);
        else if (is("--iters")) o.iters = (int)number(value(), 1);
        else if (is("--seconds")) o.seconds = number(value(), 0.001);
        else if (is("--csv")) o.csv = value();
        else if (a == "--verbose") o.verbose = true;
        else if (a == "--no-peak") o.peak = false;
        else if (a == "--selftest") o.selftest = true;
        else usage_error("unknown argument " + a);
    }
    return o;
}

// ------------------------------------------------------------------------------------------------ machine info

std::string isa_name(dnnl::cpu_isa isa) {
    using I = dnnl::cpu_isa;
    static const std::map<I, const char *> names = {
        {I::isa_default, "default (no JIT ISA)"},
        {I::sse41, "sse41"},
        {I::avx, "avx"},
        {I::avx2, "avx2"},
        {I::avx2_vnni, "avx2_vnni"},
        {I::avx2_vnni_2, "avx2_vnni_2"},
        {I::avx512_core, "avx512_core"},
        {I::avx512_core_vnni, "avx512_core_vnni"},
        {I::avx512_core_bf16, "avx512_core_bf16"},
        {I::avx10_1_512, "avx10_1_512"},
        {I::avx512_core_fp16, "avx512_core_fp16 (avx10_1_512)"},
        {I::avx10_1_512_amx, "avx10_1_512_amx"},
        {I::avx512_core_amx, "avx512_core_amx"},
        {I::avx10_1_512_amx_fp16, "avx10_1_512_amx_fp16"},
        {I::avx512_core_amx_fp16, "avx512_core_amx_fp16"},
    };
    auto it = names.find(isa);
    if (it != names.end()) return it->second;
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%x", (unsigned)isa);
    return buf;
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) {
            size_t c = line.find(':');
            if (c != std::string::npos) return line.substr(line.find_first_not_of(" \t", c + 1));
        }
    return "(unknown)";
}

std::string runtime_name(unsigned rt) {
    switch (rt) {
    case DNNL_RUNTIME_OMP: return "OpenMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "runtime " + std::to_string(rt);
    }
}

// ------------------------------------------------------------------------------------------------ timing

using clk = std::chrono::steady_clock;

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// A route slower than this per call is timed once, whatever --iters says.
constexpr double kSlowMs = 2000;

struct Timing {
    int iters = 0;
    double ms = 0, min_ms = 0;
    std::vector<double> part_ms;
};

Timing time_route(const Route &rt, const Options &o) {
    const size_t np = rt.parts.size();
    std::vector<double> part(np);
    double last = 0;
    for (int i = 0; i < 3; i++) {  // warm-up (the first call may still initialise lazily)
        auto t0 = clk::now();
        rt.run(np ? part.data() : nullptr);
        last = std::chrono::duration<double, std::milli>(clk::now() - t0).count();
        if (last > kSlowMs) break;
    }
    Timing t;
    t.iters = o.iters > 0 ? o.iters
                          : (int)std::min(100000.0, std::max(5.0, std::ceil(o.seconds * 1000.0 / std::max(last, 1e-4))));
    if (last > kSlowMs) t.iters = 1;  // e.g. a reference (ref:any) kernel: one run says enough
    std::vector<double> total(t.iters);
    std::vector<std::vector<double>> parts(np, std::vector<double>(t.iters));
    for (int i = 0; i < t.iters; i++) {
        auto t0 = clk::now();
        rt.run(np ? part.data() : nullptr);
        total[i] = std::chrono::duration<double, std::milli>(clk::now() - t0).count();
        for (size_t p = 0; p < np; p++) parts[p][i] = part[p];
    }
    t.ms = median(total);
    t.min_ms = *std::min_element(total.begin(), total.end());
    for (auto &p : parts) t.part_ms.push_back(median(p));
    return t;
}

// ------------------------------------------------------------------------------------------------ output

std::string fmt(const char *f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string csv_field(const std::string &s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

struct Table {
    std::ofstream csv;
    double peak = 0;

    static std::string ms_str(double ms) { return ms <= 0 ? "" : fmt(ms < 1 ? "%.4f" : "%.3f", ms); }
    void row(const std::string &shape, const std::string &route, double ms, double min_ms, double gflops,
             const std::string &impl, const std::string &check) {
        const std::string pct = peak > 0 && gflops > 0 ? fmt("%.1f", 100.0 * gflops / peak) : "";
        std::printf("  %-38s %10s %10s %9s %6s  %-8s %s\n", route.c_str(), ms_str(ms).c_str(), ms_str(min_ms).c_str(),
                    gflops > 0 ? fmt("%.2f", gflops).c_str() : "", pct.c_str(), check.c_str(), impl.c_str());
        if (csv)
            csv << csv_field(shape) << ',' << csv_field(route) << ',' << fmt("%.6f", ms) << ','
                << (gflops > 0 ? fmt("%.3f", gflops) : "") << ',' << pct << ',' << csv_field(impl) << '\n';
    }
    void unsupported(const std::string &shape, const std::string &route, const std::string &why) {
        std::printf("  %-38s unsupported: %s\n", route.c_str(), why.c_str());
        if (csv) csv << csv_field(shape) << ',' << csv_field(route) << ",,,," << csv_field("unsupported: " + why) << '\n';
    }
};

std::string shape_line(const Shape &s) {
    std::string outs;
    for (int i = 0; i < s.rank; i++) outs += (i ? "x" : "") + std::to_string(s.out(i));
    return s.name + ": " + s.describe() + " -> out " + outs + ", " + fmt("%.4g", s.flops() / 1e9) + " GFLOP";
}

// ------------------------------------------------------------------------------------------------ benchmark

int run_benchmark(Ctx &ctx, const Options &o, const std::vector<Shape> &shapes, double peak) {
    Table tab;
    tab.peak = peak;
    if (!o.csv.empty()) {
        tab.csv.open(o.csv);
        if (!tab.csv) usage_error("cannot write " + o.csv);
        tab.csv << "shape,route,ms_median,gflops,pct_peak,impl\n";
    }
    std::printf("\n  %-38s %10s %10s %9s %6s  %-8s %s\n", "route", "median ms", "min ms", "GFLOP/s", "%peak", "check",
                "impl");
    int mismatches = 0;
    for (const Shape &s : shapes) {
        std::printf("%s\n", shape_line(s).c_str());
        std::fflush(stdout);
        Problem pb(s, 42);
        const double flops = s.flops();
        std::vector<float> ref;
        std::string ref_name;
        std::map<std::string, double> ms_of;
        for (const RouteMaker &mk : route_makers(ctx, pb, o.routes)) {
            Route rt = mk.build();
            if (!rt.unsupported.empty()) {
                tab.unsupported(s.name, rt.name, rt.unsupported);
                continue;
            }
            Timing t;
            std::vector<float> out;
            try {
                t = time_route(rt, o);
                out = rt.result();
            } catch (const dnnl::error &e) {
                std::printf("  %-38s FAILED to execute: %s\n", rt.name.c_str(), e.what());
                mismatches++;
                continue;
            }
            // Cross-check against the first route that ran (deconv:any unless filtered out or refused).
            std::string check = "ref";
            const std::string runs = t.iters == 1 && o.iters != 1 ? " (1 run: slow)" : "";
            if (ref_name.empty()) {
                ref = std::move(out);
                ref_name = rt.name;
            } else {
                double err = rel_error(out, ref);
                check = err <= 1e-4 ? "ok" : "BAD " + fmt("%.1e", err);
                if (err > 1e-4) mismatches++;
            }
            ms_of[rt.name] = t.ms;
            if (!rt.only_if_faster_than.empty() && ms_of.count(rt.only_if_faster_than) &&
                t.ms >= ms_of[rt.only_if_faster_than]) {
                std::printf("  %-38s (accepted by oneDNN, impl %s, but slower: %.4g ms vs %.4g ms; not a route)\n",
                            rt.name.c_str(), rt.impl.c_str(), t.ms, ms_of[rt.only_if_faster_than]);
                continue;
            }
            tab.row(s.name, rt.name, t.ms, t.min_ms, flops / (t.ms * 1e6), rt.impl + runs, check);
            for (size_t p = 0; p < rt.parts.size(); p++)
                tab.row(s.name, rt.name + "/" + rt.parts[p], t.part_ms[p], 0,
                        rt.parts[p] == "matmul" ? flops / (t.part_ms[p] * 1e6) : 0, "", "");
            if (o.verbose && !rt.notes.empty()) std::printf("  %38s   %s\n", "", rt.notes.c_str());
            std::fflush(stdout);
        }
    }
    std::printf("\ncheck: each route's output against the first route of its shape (\"ref\"), "
                "max|diff|/max|ref| <= 1e-4\n");
    if (mismatches) {
        std::printf("%d route(s) failed or disagree with the reference\n", mismatches);
        return 1;
    }
    return 0;
}

// ------------------------------------------------------------------------------------------------ self-test

const char *kSelftestLayers[] = {
    "rand_1d        n=2 cin=3 cout=2 in=7 k=3",
    "ks_1d          n=2 cin=5 cout=3 in=7 k=4 s=4",
    "ks_2d          n=2 cin=6 cout=4 in=3x5 k=2x3 s=2x3",
    "ks_3d          n=2 cin=4 cout=3 in=3x2x4 k=2 s=2",
    "ks_2d_nobias   n=3 cin=5 cout=7 in=4x4 k=2 s=2 bias=0",
    "one_1d         n=3 cin=7 cout=5 in=1 k=3 s=2",
    "one_2d         n=3 cin=7 cout=5 in=1x1 k=4",
    "one_3d         n=2 cin=4 cout=3 in=1x1x1 k=2x3x2 s=3",
    "pad_op_dil_2d  n=2 cin=5 cout=6 in=5x4 k=3 s=2 p=1 op=1 d=2",
    "pad_op_dil_1d  n=2 cin=3 cout=4 in=9 k=5 s=3 p=3 op=2 d=2",
    "pad_end_neg    n=2 cin=4 cout=3 in=5x5 k=3 s=2 p=0 op=1",
    "pad_op_3d      n=2 cin=3 cout=4 in=3x3x3 k=3 s=2 p=1 op=1",
    "grouped_2d     n=2 cin=8 cout=6 g=2 in=5x5 k=3 s=2 p=1 op=1",
    "depthwise_2d   n=1 cin=4 cout=4 g=4 in=6x6 k=4 s=2 p=1",
    "stride_gt_k    n=1 cin=3 cout=2 in=4x4 k=2 s=3",
    "dilated_2d     n=2 cin=4 cout=4 in=6x6 k=3 p=2 d=2",
};

/// A small instance of a listed shape: same kernel geometry, groups and bias; batch ≤ 2, ≤ 3 channels per group,
/// spatial sizes ≤ 5.
bool small_instance(const Shape &s, Shape &out) {
    out = s;
    out.name = "small:" + s.name;
    out.n = std::min<int64_t>(s.n, 2);
    out.cin = s.g * std::min<int64_t>(s.cin / s.g, 3);
    out.cout = s.g * std::min<int64_t>(s.cout / s.g, 3);
    for (int i = 0; i < s.rank; i++) out.in[i] = std::min<int64_t>(s.in[i], 5);
    try {
        validate(out);
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

/// Runs every route once on the problem and compares with `expected`; prints one line; returns mismatches.
int g_checked = 0, g_unsupported = 0;

int check_problem(Ctx &ctx, const Problem &pb, const std::vector<float> &expected, double tol,
                  const std::vector<std::string> &wanted) {
    int bad = 0;
    std::string line;
    for (const RouteMaker &mk : route_makers(ctx, pb, wanted)) {
        Route rt = mk.build();
        if (!rt.unsupported.empty()) {
            // oneDNN may decline a configuration (unimplemented); invalid arguments mean a wrong descriptor here.
            const bool invalid = rt.unsupported.rfind("invalid arguments", 0) == 0;
            line += "\n    " + rt.name + ": " + (invalid ? "FAILED, " : "") + "unsupported (" + rt.unsupported + ")";
            bad += invalid;
            g_unsupported++;
            continue;
        }
        double err;
        g_checked++;
        try {
            rt.run(nullptr);
            rt.run(nullptr);  // twice: a route must not depend on the state its previous run left
            err = rel_error(rt.result(), expected);
        } catch (const dnnl::error &e) {
            line += "\n    " + rt.name + ": FAILED to execute: " + e.what();
            bad++;
            continue;
        }
        bool ok = err <= tol;
        bad += !ok;
        line += "\n    " + rt.name + ": " + (ok ? "ok" : "MISMATCH") + " (" + fmt("%.1e", err) + ")";
    }
    std::printf("%s %s%s\n", bad ? "FAIL" : "pass", shape_line(pb.sh).c_str(), line.c_str());
    return bad;
}

int run_selftest(Ctx &ctx, const Options &o) {
    int bad = 0;
    // 1. The seed example: exact values.
    {
        Shape s = parse_shape_line("seed_1d n=1 cin=1 cout=1 in=7 k=3 bias=0");
        Problem pb(s, 1);
        pb.x = {1, 0, 1, 1, 0, 1, 0};
        pb.w = {1, 2, 3};
        const std::vector<float> expected = {1, 2, 4, 3, 5, 4, 2, 3, 0};
        if (rel_error(naive_conv_transpose(pb), expected) != 0) {
            std::printf("FAIL the scalar reference does not give the seed output\n");
            bad++;
        }
        std::printf("seed example: input [1,0,1,1,0,1,0], weight [1,2,3] -> expect [1,2,4,3,5,4,2,3,0]\n");
        bad += check_problem(ctx, pb, expected, 1e-6, o.routes);
    }
    // 2. Small random layers: the built-in families, then a small instance of every listed shape.
    std::vector<Shape> layers;
    for (const char *l : kSelftestLayers) layers.push_back(parse_shape_line(l));
    try {
        for (const Shape &s : parse_shapes(o.shapes)) {
            Shape small;
            if (small_instance(s, small)) layers.push_back(small);
        }
    } catch (const std::exception &e) {
        std::printf("(shapes file skipped: %s)\n", e.what());
    }
    uint64_t seed = 7;
    for (const Shape &s : layers) {
        Problem pb(s, seed++);
        bad += check_problem(ctx, pb, naive_conv_transpose(pb), 1e-4, o.routes);
    }
    // 3. matmul-col2im in batch chunks (2 + 2 + 1 items) instead of one.
    {
        Problem pb(parse_shape_line("col2im_chunks n=5 cin=4 cout=3 in=4x3 k=3 s=2 p=1 op=1"), 99);
        set_cols_limit((size_t)(2 * pb.P * pb.Cout * pb.K) * sizeof(float));
        std::printf("(matmul-col2im with columns limited to 2 batch items)\n");
        std::vector<std::string> only{"matmul-col2im"};
        bad += check_problem(ctx, pb, naive_conv_transpose(pb), 1e-4, only);
        set_cols_limit(size_t(256) << 20);
    }
    std::printf("\nselftest: %s: %d route runs checked, %d failing; %d routes declined by oneDNN (tolerance "
                "max|diff|/max|ref| <= 1e-4 against a scalar double-accumulating loop)\n",
                bad ? "FAILED" : "passed", g_checked, bad, g_unsupported);
    return bad ? 1 : 0;
}

}  // namespace

int main(int argc, char **argv) {
    Options o = parse_args(argc, argv);
    try {
        const dnnl_version_t *v = dnnl_version();
        Ctx ctx;
        std::printf("convt native floor: oneDNN %d.%d.%d (%s), CPU runtime %s; JavaCPP preset dnnl %s\n", v->major,
                    v->minor, v->patch, v->hash ? v->hash : "?", runtime_name(v->cpu_runtime).c_str(),
                    DNNL_PRESET_VERSION);
        std::printf("ISA (effective): %s | CPU: %s | threads: %d (OpenMP)\n",
                    isa_name(dnnl::get_effective_cpu_isa()).c_str(), cpu_model().c_str(), omp_get_max_threads());
        if (o.selftest) return run_selftest(ctx, o);

        std::vector<Shape> all = parse_shapes(o.shapes), shapes;
        if (o.names.empty()) shapes = all;
        for (const std::string &n : o.names) {
            auto it = std::find_if(all.begin(), all.end(), [&](const Shape &s) { return s.name == n; });
            if (it == all.end()) {
                std::string known;
                for (auto &s : all) known += " " + s.name;
                usage_error("no shape '" + n + "' in " + o.shapes + " (known:" + known + ")");
            }
            shapes.push_back(*it);
        }
        if (o.batch > 0)
            for (auto &s : shapes) s.n = o.batch;
        std::printf("shapes: %s%s\n", o.shapes.c_str(), o.batch > 0 ? (" (batch overridden: " + std::to_string(o.batch) + ")").c_str() : "");

        Peak peak;
        if (o.peak) {
            peak = measure_peak(0.6);
            std::printf("peak f32 (FMA loop, 12 independent chains, %d threads, per-thread CPU time): AVX2 %.1f GFLOP/s, "
                        "AVX-512 %s\n",
                        omp_get_max_threads(), peak.avx2,
                        peak.avx512 > 0 ? (fmt("%.1f", peak.avx512) + " GFLOP/s").c_str() : "not supported");
        }
        std::printf("timing: median of %s after 3 warm-up runs; f32, forward_inference\n",
                    o.iters > 0 ? (std::to_string(o.iters) + " runs").c_str()
                                : ("max(5, " + fmt("%.3g", o.seconds) + " s worth of) runs").c_str());
        return run_benchmark(ctx, o, shapes, peak.best());
    } catch (const dnnl::error &e) {
        std::fprintf(stderr, "floor: oneDNN error: %s (status %d)\n", e.what(), (int)e.status);
        return 3;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "floor: %s\n", e.what());
        return 2;
    }
}
