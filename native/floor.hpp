// convt native floor: times the oneDNN primitives convt uses, without the JVM. See native/README.md.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

// ---------------------------------------------------------------------------------------------------------------
// shapes.cpp: one layer of bench/shapes.txt (PyTorch ConvTranspose{1,2,3}d semantics).

struct Shape {
    std::string name;
    int64_t n = 1, cin = 0, cout = 0, g = 1;
    int rank = 0;  // 1, 2 or 3; axes past the rank hold the neutral values below
    std::array<int64_t, 3> in{{1, 1, 1}}, k{{1, 1, 1}}, s{{1, 1, 1}}, p{{0, 0, 0}}, op{{0, 0, 0}}, d{{1, 1, 1}};
    bool bias = true;

    int64_t padBegin(int i) const { return p[i]; }
    int64_t padEnd(int i) const { return p[i] - op[i]; }  // may be negative
    int64_t out(int i) const { return (in[i] - 1) * s[i] - padBegin(i) - padEnd(i) + d[i] * (k[i] - 1) + 1; }
    /// 2·N·Cin·(Cout/g)·∏k·∏in
    double flops() const;
    /// "n=64 cin=512 cout=256 in=4x4 k=4 s=2 p=1" (only non-default keys), parseable by parse_shape_line.
    std::string describe() const;
};

/// Parses a shapes file; throws std::runtime_error naming the file and line on a bad line.
std::vector<Shape> parse_shapes(const std::string &path);
/// Parses one "NAME key=value ..." line (no comment); throws std::runtime_error.
Shape parse_shape_line(const std::string &line);
/// Throws std::runtime_error when the layer is not a valid ConvTranspose (sizes, groups, output size).
void validate(const Shape &s);

// ---------------------------------------------------------------------------------------------------------------
// routes.cpp: the data of one problem and the routes that compute it.

struct Problem {
    Shape sh;
    int r = 0;
    int64_t N = 0, Cin = 0, Cout = 0, G = 1;
    int64_t P = 1, K = 1, Q = 1;  // ∏in, ∏k, ∏out
    std::vector<float> x;         // input, NCX
    std::vector<float> w;         // PyTorch weight [Cin, Cout/G, *k]
    std::vector<float> b;         // bias [Cout]; empty when the layer has none
    explicit Problem(const Shape &s, uint64_t seed);
    int64_t out(int i) const { return sh.out(i); }
    size_t out_elems() const { return (size_t)(N * Cout * Q); }
};

struct Ctx {
    dnnl::engine eng;
    dnnl::stream strm;
    Ctx() : eng(dnnl::engine::kind::cpu, 0), strm(eng) {}
};

/// One way of computing a problem, built once (primitive descriptors, primitives, weights reordered) and run
/// many times.
struct Route {
    std::string name;
    std::string unsupported;  // non-empty: oneDNN refused a primitive; run/result are empty
    std::string impl;         // impl_info_str() of the main primitive
    std::string notes;        // layouts, reorder implementations, ...
    std::vector<std::string> parts;  // names of separately timed parts (empty: none)
    /// Runs once (including stream.wait()); writes one time in ms per part into part_ms when parts is non-empty.
    std::function<void(double *part_ms)> run;
    /// The output of the last run, NCX.
    std::function<std::vector<float>()> result;
    /// Non-empty: an experimental variant, shown as a table row only when faster than the route of this name.
    std::string only_if_faster_than;
    /// Buffers the primitives point into (repeated bias, permuted copies, ...), kept alive with the route.
    std::vector<std::shared_ptr<void>> owned;
};

/// matmul-col2im processes the batch in chunks whose columns stay under this many bytes (default 256 MiB).
void set_cols_limit(size_t bytes);

struct RouteMaker {
    std::string name;
    std::function<Route()> build;  // builds primitives, reorders constant data; never throws for oneDNN refusals
};
/// The routes that apply to the problem, in table order (routes that do not apply are not returned); `wanted`
/// filters by name prefix (empty: all). ctx and pb must outlive the makers and the routes they build.
std::vector<RouteMaker> route_makers(Ctx &ctx, const Problem &pb, const std::vector<std::string> &wanted);

// ---------------------------------------------------------------------------------------------------------------
// kernels.cpp: hand-written loops.

/// out[n, co, :] = bias (or 0), then the col2im scatter-add of cols [nb, ∏in, Cout·∏k] for batch items n0..n0+nb.
void col2im(const Problem &pb, const float *cols, int64_t n0, int64_t nb, float *out);
/// The scalar definition of ConvTranspose (double accumulation); NCX output.
std::vector<float> naive_conv_transpose(const Problem &pb);

struct Peak {
    double avx2 = 0, avx512 = 0;  // GFLOP/s on all OpenMP threads; 0 = not supported
    double best() const { return avx512 > avx2 ? avx512 : avx2; }
};
Peak measure_peak(double seconds);

/// Normwise relative error max_i |a_i - ref_i| / max_i |ref_i| (infinity on a size mismatch or NaN).
double rel_error(const std::vector<float> &a, const std::vector<float> &ref);
