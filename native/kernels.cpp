// Hand-written loops: the col2im scatter-add of route matmul-col2im, the scalar reference, the FMA peak loop.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include <time.h>

#include "floor.hpp"

namespace {

/// The problem's geometry lifted to three spatial axes (leading axes neutral: size 1, k 1, s 1, p 0, d 1).
struct Geo {
    int64_t in[3], k[3], s[3], pb[3], d[3], out[3];
};

Geo lift(const Problem &pb) {
    Geo g;
    for (int j = 0; j < 3; j++) {
        int i = j - (3 - pb.r);
        bool real = i >= 0;
        g.in[j] = real ? pb.sh.in[i] : 1;
        g.k[j] = real ? pb.sh.k[i] : 1;
        g.s[j] = real ? pb.sh.s[i] : 1;
        g.pb[j] = real ? pb.sh.padBegin(i) : 0;
        g.d[j] = real ? pb.sh.d[i] : 1;
        g.out[j] = real ? pb.out(i) : 1;
    }
    return g;
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/// Taps t of one axis whose output o = x·s − pb + t·d falls inside [0, out): t in [lo, hi] (empty if lo > hi).
inline void tap_range(const Geo &g, int j, int64_t x, int64_t &lo, int64_t &hi) {
    int64_t base = x * g.s[j] - g.pb[j];
    lo = std::max<int64_t>(0, ceil_div(-base, g.d[j]));
    hi = std::min<int64_t>(g.k[j] - 1, floor_div(g.out[j] - 1 - base, g.d[j]));
}

/// One (n, co) output plane: bias, then += every column entry that lands in it. cols points at
/// cols[n, x = 0, co·K]; consecutive input positions are row_stride (= Cout·K) apart.
__attribute__((target_clones("avx512f", "avx2", "default"))) void col2im_plane(const Geo &g, const float *cols,
                                                                                 int64_t row_stride, float *plane,
                                                                                 float bias) {
    const int64_t o1 = g.out[1], o2 = g.out[2];
    const int64_t k1 = g.k[1], k2 = g.k[2], d0 = g.d[0], d1 = g.d[1], d2 = g.d[2];
    std::fill(plane, plane + g.out[0] * o1 * o2, bias);
    for (int64_t x0 = 0; x0 < g.in[0]; x0++) {
        int64_t lo0, hi0;
        tap_range(g, 0, x0, lo0, hi0);
        const int64_t b0 = x0 * g.s[0] - g.pb[0];
        for (int64_t x1 = 0; x1 < g.in[1]; x1++) {
            int64_t lo1, hi1;
            tap_range(g, 1, x1, lo1, hi1);
            const int64_t b1 = x1 * g.s[1] - g.pb[1];
            for (int64_t x2 = 0; x2 < g.in[2]; x2++) {
                int64_t lo2, hi2;
                tap_range(g, 2, x2, lo2, hi2);
                const int64_t b2 = x2 * g.s[2] - g.pb[2];
                const float *row = cols + ((x0 * g.in[1] + x1) * g.in[2] + x2) * row_stride;
                for (int64_t t0 = lo0; t0 <= hi0; t0++) {
                    const int64_t oo0 = (b0 + t0 * d0) * o1;
                    for (int64_t t1 = lo1; t1 <= hi1; t1++) {
                        float *dst = plane + (oo0 + b1 + t1 * d1) * o2 + b2;
                        const float *src = row + (t0 * k1 + t1) * k2;
                        if (d2 == 1) {
                            for (int64_t t2 = lo2; t2 <= hi2; t2++) dst[t2] += src[t2];
                        } else {
                            for (int64_t t2 = lo2; t2 <= hi2; t2++) dst[t2 * d2] += src[t2];
                        }
                    }
                }
            }
        }
    }
}

}  // namespace

void col2im(const Problem &pb, const float *cols, int64_t n0, int64_t nb, float *out) {
    const Geo g = lift(pb);
    const int64_t Cout = pb.Cout, K = pb.K, P = pb.P, Q = pb.Q;
    const float *bias = pb.b.empty() ? nullptr : pb.b.data();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < nb; n++)
        for (int64_t co = 0; co < Cout; co++)
            col2im_plane(g, cols + n * P * Cout * K + co * K, Cout * K, out + ((n0 + n) * Cout + co) * Q,
                         bias ? bias[co] : 0.f);
}

std::vector<float> naive_conv_transpose(const Problem &pb) {
    const Geo g = lift(pb);
    const int64_t N = pb.N, Cin = pb.Cin, Cout = pb.Cout, G = pb.G, CinG = Cin / G, CoutG = Cout / G;
    const int64_t P = pb.P, K = pb.K, Q = pb.Q;
    std::vector<double> acc((size_t)(N * Cout * Q), 0.0);
    for (int64_t n = 0; n < N; n++)
        for (int64_t ci = 0; ci < Cin; ci++) {
            const int64_t grp = ci / CinG;
            for (int64_t col = 0; col < CoutG; col++) {
                const int64_t co = grp * CoutG + col;
                const float *wk = &pb.w[(size_t)((ci * CoutG + col) * K)];  // w[ci, col, :]
                double *plane = &acc[(size_t)((n * Cout + co) * Q)];
                for (int64_t x0 = 0; x0 < g.in[0]; x0++)
                    for (int64_t x1 = 0; x1 < g.in[1]; x1++)
                        for (int64_t x2 = 0; x2 < g.in[2]; x2++) {
                            const double xv = pb.x[(size_t)((n * Cin + ci) * P + (x0 * g.in[1] + x1) * g.in[2] + x2)];
                            for (int64_t t0 = 0; t0 < g.k[0]; t0++)
                                for (int64_t t1 = 0; t1 < g.k[1]; t1++)
                                    for (int64_t t2 = 0; t2 < g.k[2]; t2++) {
                                        const int64_t o0 = x0 * g.s[0] - g.pb[0] + t0 * g.d[0];
                                        const int64_t o1 = x1 * g.s[1] - g.pb[1] + t1 * g.d[1];
                                        const int64_t o2 = x2 * g.s[2] - g.pb[2] + t2 * g.d[2];
                                        if (o0 < 0 || o0 >= g.out[0] || o1 < 0 || o1 >= g.out[1] || o2 < 0 ||
                                            o2 >= g.out[2])
                                            continue;
                                        plane[(o0 * g.out[1] + o1) * g.out[2] + o2] +=
                                            xv * wk[(t0 * g.k[1] + t1) * g.k[2] + t2];
                                    }
                        }
            }
        }
    std::vector<float> out(acc.size());
    for (int64_t n = 0; n < N; n++)
        for (int64_t co = 0; co < Cout; co++)
            for (int64_t q = 0; q < Q; q++) {
                size_t i = (size_t)((n * Cout + co) * Q + q);
                out[i] = (float)(acc[i] + (pb.b.empty() ? 0.0 : pb.b[(size_t)co]));
            }
    return out;
}

double rel_error(const std::vector<float> &a, const std::vector<float> &ref) {
    if (a.size() != ref.size()) return std::numeric_limits<double>::infinity();
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); i++) {
        double dv = std::fabs((double)a[i] - (double)ref[i]);
        if (!(dv <= diff)) diff = dv;  // NaN propagates
        scale = std::max(scale, std::fabs((double)ref[i]));
    }
    if (std::isnan(diff)) return std::numeric_limits<double>::infinity();
    return scale > 0 ? diff / scale : diff;
}

// ---------------------------------------------------------------------------------------------------------------
// Peak: 12 independent FMA chains per thread, long enough that loop overhead vanishes.

namespace {

constexpr int kChains = 12;

__attribute__((target("avx2,fma"), noinline)) float fma_loop_avx2(int64_t iters) {
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    __m256 c[kChains];
    for (int i = 0; i < kChains; i++) c[i] = _mm256_set1_ps(0.01f * i);
    for (int64_t it = 0; it < iters; it++) {
        c[0] = _mm256_fmadd_ps(c[0], a, b);
        c[1] = _mm256_fmadd_ps(c[1], a, b);
        c[2] = _mm256_fmadd_ps(c[2], a, b);
        c[3] = _mm256_fmadd_ps(c[3], a, b);
        c[4] = _mm256_fmadd_ps(c[4], a, b);
        c[5] = _mm256_fmadd_ps(c[5], a, b);
        c[6] = _mm256_fmadd_ps(c[6], a, b);
        c[7] = _mm256_fmadd_ps(c[7], a, b);
        c[8] = _mm256_fmadd_ps(c[8], a, b);
        c[9] = _mm256_fmadd_ps(c[9], a, b);
        c[10] = _mm256_fmadd_ps(c[10], a, b);
        c[11] = _mm256_fmadd_ps(c[11], a, b);
    }
    __m256 s = c[0];
    for (int i = 1; i < kChains; i++) s = _mm256_add_ps(s, c[i]);
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

__attribute__((target("avx512f"), noinline)) float fma_loop_avx512(int64_t iters) {
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
    __m512 c[kChains];
    for (int i = 0; i < kChains; i++) c[i] = _mm512_set1_ps(0.01f * i);
    for (int64_t it = 0; it < iters; it++) {
        c[0] = _mm512_fmadd_ps(c[0], a, b);
        c[1] = _mm512_fmadd_ps(c[1], a, b);
        c[2] = _mm512_fmadd_ps(c[2], a, b);
        c[3] = _mm512_fmadd_ps(c[3], a, b);
        c[4] = _mm512_fmadd_ps(c[4], a, b);
        c[5] = _mm512_fmadd_ps(c[5], a, b);
        c[6] = _mm512_fmadd_ps(c[6], a, b);
        c[7] = _mm512_fmadd_ps(c[7], a, b);
        c[8] = _mm512_fmadd_ps(c[8], a, b);
        c[9] = _mm512_fmadd_ps(c[9], a, b);
        c[10] = _mm512_fmadd_ps(c[10], a, b);
        c[11] = _mm512_fmadd_ps(c[11], a, b);
    }
    __m512 s = c[0];
    for (int i = 1; i < kChains; i++) s = _mm512_add_ps(s, c[i]);
    float v[16];
    _mm512_storeu_ps(v, s);
    float sum = 0;
    for (float f : v) sum += f;
    return sum;
}

volatile float g_sink;

double thread_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/// GFLOP/s of `loop` run on every OpenMP thread at once: best of 3 repetitions of about seconds/3 each. Each
/// thread's rate is its FLOPs over its own CPU time, and the rates are summed, so that other processes sharing the
/// machine (which take wall-clock time, not this thread's CPU time) do not lower the figure.
double peak_of(float (*loop)(int64_t), int lanes, double seconds) {
    const int nt = omp_get_max_threads();
    std::vector<double> cpu(nt);
    auto timed = [&](int64_t iters) {
        auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(nt)
        {
            const double c0 = thread_cpu_seconds();
            float r = loop(iters);
            cpu[omp_get_thread_num()] = thread_cpu_seconds() - c0;
            if (r == 12345.f) g_sink = r;
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    int64_t iters = 1 << 14;
    double t = timed(iters);
    while (t < 0.02) {
        iters *= 4;
        t = timed(iters);
    }
    iters = std::max<int64_t>(1, (int64_t)(iters * (seconds / 3) / t));
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        timed(iters);
        double rate = 0;
        for (double c : cpu) rate += c > 0 ? iters * kChains * lanes * 2.0 / c / 1e9 : 0;
        best = std::max(best, rate);
    }
    return best;
}

}  // namespace

Peak measure_peak(double seconds) {
    Peak p;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) p.avx2 = peak_of(fma_loop_avx2, 8, seconds);
    if (__builtin_cpu_supports("avx512f")) p.avx512 = peak_of(fma_loop_avx512, 16, seconds);
    return p;
}
