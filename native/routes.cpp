// The routes: each builds its oneDNN primitives once and returns a closure that executes them.
#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "floor.hpp"

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
using dims = memory::dims;
using Args = std::unordered_map<int, memory>;
using Buf = std::shared_ptr<std::vector<float>>;

namespace {

// ----------------------------------------------------------------------------------------------- helpers

memory::desc md(const dims &d, tag t) { return memory::desc(d, dt::f32, t); }
memory::desc mds(const dims &d, const dims &strides) { return memory::desc(d, dt::f32, strides); }

dims dense_strides(const dims &d) {
    dims s(d.size());
    int64_t acc = 1;
    for (size_t i = d.size(); i-- > 0;) {
        s[i] = acc;
        acc *= d[i];
    }
    return s;
}

tag ncx_tag(int r) { return r == 1 ? tag::ncw : r == 2 ? tag::nchw : tag::ncdhw; }
tag nxc_tag(int r) { return r == 1 ? tag::nwc : r == 2 ? tag::nhwc : tag::ndhwc; }
/// The PyTorch weight [Cin, Cout/G, *k] as oneDNN deconvolution weights [Cout, Cin, *k] / [G, Cout/G, Cin/G, *k].
tag user_weights_tag(int r, bool grouped) {
    if (grouped) return r == 1 ? tag::acbd : r == 2 ? tag::acbde : tag::acbdef;
    return r == 1 ? tag::bac : r == 2 ? tag::bacd : tag::bacde;
}

memory wrap(Ctx &c, const memory::desc &d, const float *p) { return memory(d, c.eng, const_cast<float *>(p)); }

Buf buf(size_t n, float v = 0.f) { return std::make_shared<std::vector<float>>(n, v); }

void reorder_now(Ctx &c, const memory &from, const memory &to) {
    reorder(from, to).execute(c.strm, const_cast<memory &>(from), const_cast<memory &>(to));
    c.strm.wait();
}

/// oneDNN's name-like spelling of a blocked layout: dims ordered by stride, blocked dims upper case, then the
/// inner blocks (e.g. "aBcd8b" for nChw8c, "acdb" for nhwc).
std::string layout(const memory::desc &d) {
    if (d.get_format_kind() != memory::format_kind::blocked) return "(non-blocked)";
    const int nd = d.get_ndims();
    const dims st = d.get_strides();
    const int nb = d.get_inner_nblks();
    const dims blks = d.get_inner_blks(), idxs = d.get_inner_idxs();
    std::vector<int> order(nd);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return st[a] > st[b]; });
    std::string s;
    for (int i : order) {
        bool blocked = false;
        for (int j = 0; j < nb; j++) blocked |= idxs[j] == i;
        s += char((blocked ? 'A' : 'a') + i);
    }
    for (int j = 0; j < nb; j++) s += std::to_string(blks[j]) + char('a' + idxs[j]);
    return s;
}

std::string why(const dnnl::error &e) {
    std::string status = e.status == dnnl_unimplemented        ? "unimplemented"
                         : e.status == dnnl_invalid_arguments ? "invalid arguments"
                                                              : "status " + std::to_string((int)e.status);
    std::string m = e.what();
    size_t cut = m.find(". Run workload");
    if (cut != std::string::npos) m.resize(cut);
    return status + ": " + m;
}

std::string reorder_impl(Ctx &c, const memory::desc &from, const memory::desc &to) {
    try {
        return reorder::primitive_desc(c.eng, from, c.eng, to).impl_info_str();
    } catch (const dnnl::error &e) {
        return "?";
    }
}

/// Reads a memory (any layout, dims [N, C, *spatial]) back as plain NCX.
std::vector<float> to_ncx(Ctx &c, const memory &m) {
    const memory::desc d = m.get_desc();
    const dims dd = d.get_dims();
    size_t n = 1;
    for (auto v : dd) n *= (size_t)v;
    std::vector<float> out(n);
    memory plain(mds(dd, dense_strides(dd)), c.eng, out.data());
    reorder_now(c, m, plain);
    return out;
}

std::vector<float> nxc_to_ncx(const std::vector<float> &v, int64_t N, int64_t C, int64_t Q) {
    std::vector<float> out(v.size());
    for (int64_t n = 0; n < N; n++)
        for (int64_t q = 0; q < Q; q++)
            for (int64_t c = 0; c < C; c++) out[(size_t)((n * C + c) * Q + q)] = v[(size_t)((n * Q + q) * C + c)];
    return out;
}

std::vector<float> ncx_to_nxc(const std::vector<float> &v, int64_t N, int64_t C, int64_t Q) {
    std::vector<float> out(v.size());
    for (int64_t n = 0; n < N; n++)
        for (int64_t q = 0; q < Q; q++)
            for (int64_t c = 0; c < C; c++) out[(size_t)((n * Q + q) * C + c)] = v[(size_t)((n * C + c) * Q + q)];
    return out;
}

using clk = std::chrono::steady_clock;
double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

// ----------------------------------------------------------------------------------------------- geometry

struct Geom {
    int r;
    int64_t N, Cin, Cout, G, P, K, Q;
    dims in, k, out;
    dims S_ncx, S_nxc;  // stride of each output spatial axis in NCX / NXC
    /// W' [Cin, ∏k, Cout]: the PyTorch weight with the taps before the output channel (channels-last routes).
    std::vector<float> w_kc(const Problem &pb) const {
        std::vector<float> v((size_t)(Cin * K * Cout));
        for (int64_t ci = 0; ci < Cin; ci++)
            for (int64_t co = 0; co < Cout; co++)
                for (int64_t t = 0; t < K; t++)
                    v[(size_t)((ci * K + t) * Cout + co)] = pb.w[(size_t)((ci * Cout + co) * K + t)];
        return v;
    }
    /// Bias per column of a [.., Cout·∏k] product (channel-major) or a [.., ∏k·Cout] one (tap-major).
    std::vector<float> bias_ck(const Problem &pb, bool tap_major) const {
        std::vector<float> v((size_t)(Cout * K));
        for (int64_t co = 0; co < Cout; co++)
            for (int64_t t = 0; t < K; t++) v[(size_t)(tap_major ? t * Cout + co : co * K + t)] = pb.b[(size_t)co];
        return v;
    }
};

Geom geom(const Problem &pb) {
    Geom g;
    g.r = pb.r;
    g.N = pb.N, g.Cin = pb.Cin, g.Cout = pb.Cout, g.G = pb.G, g.P = pb.P, g.K = pb.K, g.Q = pb.Q;
    for (int i = 0; i < pb.r; i++) {
        g.in.push_back(pb.sh.in[i]);
        g.k.push_back(pb.sh.k[i]);
        g.out.push_back(pb.out(i));
    }
    g.S_ncx.assign(pb.r, 1);
    g.S_nxc.assign(pb.r, pb.Cout);
    for (int i = pb.r - 2; i >= 0; i--) {
        g.S_ncx[i] = g.S_ncx[i + 1] * g.out[i + 1];
        g.S_nxc[i] = g.S_nxc[i + 1] * g.out[i + 1];
    }
    return g;
}

// ----------------------------------------------------------------------------------------------- deconvolution

enum class DeconvKind { any, plain, channels_last, any_reorders };

Route deconv_route(Ctx &c, const Problem &pb, DeconvKind kind) {
    const Geom g = geom(pb);
    const int r = g.r;
    Route rt;
    rt.name = kind == DeconvKind::any             ? "deconv:any"
              : kind == DeconvKind::plain         ? "deconv:plain"
              : kind == DeconvKind::channels_last ? "deconv:channels-last"
                                                  : "deconv:any+reorders";
    dims src_d{g.N, g.Cin}, dst_d{g.N, g.Cout}, wei_d, strides, dil, padl, padr;
    if (g.G > 1) wei_d = {g.G, g.Cout / g.G, g.Cin / g.G};
    else wei_d = {g.Cout, g.Cin};
    for (int i = 0; i < r; i++) {
        src_d.push_back(g.in[i]);
        dst_d.push_back(g.out[i]);
        wei_d.push_back(g.k[i]);
        strides.push_back(pb.sh.s[i]);
        dil.push_back(pb.sh.d[i] - 1);
        padl.push_back(pb.sh.padBegin(i));
        padr.push_back(pb.sh.padEnd(i));
    }
    const tag t = kind == DeconvKind::plain ? ncx_tag(r) : kind == DeconvKind::channels_last ? nxc_tag(r) : tag::any;
    primitive_attr attr;
    attr.set_scratchpad_mode(scratchpad_mode::user);  // as convt does (one scratchpad per execution context)
    deconvolution_forward::primitive_desc pd;
    try {
        if (!pb.b.empty())
            pd = deconvolution_forward::primitive_desc(c.eng, prop_kind::forward_inference,
                                                       algorithm::deconvolution_direct, md(src_d, t),
                                                       md(wei_d, tag::any), md({g.Cout}, tag::a), md(dst_d, t),
                                                       strides, dil, padl, padr, attr);
        else
            pd = deconvolution_forward::primitive_desc(c.eng, prop_kind::forward_inference,
                                                       algorithm::deconvolution_direct, md(src_d, t),
                                                       md(wei_d, tag::any), md(dst_d, t), strides, dil, padl,
                                                       padr, attr);
    } catch (const dnnl::error &e) {
        rt.unsupported = why(e);
        return rt;
    }
    rt.impl = pd.impl_info_str();
    memory w(pd.weights_desc(), c.eng);
    reorder_now(c, wrap(c, md(wei_d, user_weights_tag(r, g.G > 1)), pb.w.data()), w);
    const memory::desc plain_src = md(src_d, ncx_tag(r)), plain_dst = md(dst_d, ncx_tag(r));
    memory user_src = wrap(c, plain_src, pb.x.data());
    memory src = pd.src_desc() == plain_src ? user_src : memory(pd.src_desc(), c.eng);
    memory dst(pd.dst_desc(), c.eng);
    Args args{{DNNL_ARG_SRC, src},
              {DNNL_ARG_WEIGHTS, w},
              {DNNL_ARG_DST, dst},
              {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), c.eng)}};
    if (!pb.b.empty()) args[DNNL_ARG_BIAS] = wrap(c, md({g.Cout}, tag::a), pb.b.data());
    rt.notes = "src " + layout(pd.src_desc()) + " wei " + layout(pd.weights_desc()) + " dst " + layout(pd.dst_desc());
    deconvolution_forward prim(pd);
    stream s = c.strm;
    if (kind != DeconvKind::any_reorders) {
        if (src != user_src) reorder_now(c, user_src, src);  // the input already in the chosen layout, once
        rt.run = [=](double *) mutable {
            prim.execute(s, args);
            s.wait();
        };
        rt.result = [&c, dst] { return to_ncx(c, dst); };
        return rt;
    }
    // What a caller holding plain NCX buffers pays: reorder in, deconvolve, reorder out (each only if needed).
    Buf out = buf(pb.out_elems());
    memory user_dst = wrap(c, plain_dst, out->data());
    const bool rs = src != user_src, rd = pd.dst_desc() != plain_dst;
    if (!rd) {
        dst = user_dst;
        args[DNNL_ARG_DST] = dst;
    }
    reorder src_r = rs ? reorder(user_src, src) : reorder();
    reorder dst_r = rd ? reorder(dst, user_dst) : reorder();
    rt.notes += std::string("; src reorder ") + (rs ? reorder_impl(c, plain_src, pd.src_desc()) : "none") +
                ", dst reorder " + (rd ? reorder_impl(c, pd.dst_desc(), plain_dst) : "none");
    rt.run = [=](double *) mutable {
        if (rs) src_r.execute(s, user_src, src);
        prim.execute(s, args);
        if (rd) dst_r.execute(s, dst, user_dst);
        s.wait();
    };
    rt.result = [out] { return *out; };
    return rt;
}

// ----------------------------------------------------------------------------------------------- matmul helpers

/// One matmul operand. Constant operands (weights) carry their data: the primitive gets pd_md (usually `any`) and
/// the data is reordered once from user_md into the layout it chose. Variable operands have data == nullptr and a
/// concrete pd_md; the route binds their memory.
struct Operand {
    memory::desc pd_md;
    memory::desc user_md;
    const float *data = nullptr;
};

struct Mm {
    matmul prim;
    matmul::primitive_desc pd;
    Args args;  // constant operands, bias, scratchpad; the route adds the variable ones
    std::string err;
    std::string notes;
};

/// Builds a matmul; a constant operand given as `any` that oneDNN refuses is retried with its user layout. oneDNN
/// 3.8's fast matmuls take a bias only along the last (column) dimension; a bias along any other dimension gets the
/// reference kernel (ref:any), so such a bias is then retried as a binary-add post-op, which they do support.
bool make_matmul(Ctx &c, Operand src, Operand wei, const Operand *bias, const memory::desc &dst, Mm &mm) {
    bool bias_postop = false;
    auto create = [&](const memory::desc &s, const memory::desc &w) {
        primitive_attr attr;
        attr.set_scratchpad_mode(scratchpad_mode::user);
        if (bias && bias_postop) {
            post_ops po;
            po.append_binary(algorithm::binary_add, bias->pd_md);
            attr.set_post_ops(po);
        }
        mm.pd = bias && !bias_postop ? matmul::primitive_desc(c.eng, s, w, bias->pd_md, dst, attr)
                                     : matmul::primitive_desc(c.eng, s, w, dst, attr);
    };
    bool src_user = false, wei_user = false;  // constant operand given in its user layout instead of `any`
    auto create_any_or_user = [&]() {
        try {
            create(src_user ? src.user_md : src.pd_md, wei_user ? wei.user_md : wei.pd_md);
        } catch (const dnnl::error &e) {
            const bool src_any = src.data && src.pd_md != src.user_md, wei_any = wei.data && wei.pd_md != wei.user_md;
            if (!src_any && !wei_any) throw;
            src_user = src_any, wei_user = wei_any;
            create(src_user ? src.user_md : src.pd_md, wei_user ? wei.user_md : wei.pd_md);
            mm.notes += "('any' refused: " + why(e) + "; constant operand in its user layout) ";
        }
    };
    try {
        create_any_or_user();
    } catch (const dnnl::error &e) {
        mm.err = why(e);
        return false;
    }
    if (bias && std::string(mm.pd.impl_info_str()).rfind("ref", 0) == 0) {
        const std::string with_bias = mm.pd.impl_info_str();
        const matmul::primitive_desc keep = mm.pd;
        const bool keep_src = src_user, keep_wei = wei_user;
        bias_postop = true;
        src_user = wei_user = false;
        try {
            create_any_or_user();
        } catch (const dnnl::error &) {
        }
        if (std::string(mm.pd.impl_info_str()).rfind("ref", 0) == 0) {  // no better: back to the plain bias
            bias_postop = false;
            mm.pd = keep, src_user = keep_src, wei_user = keep_wei;
        } else {
            mm.notes += "bias as binary-add post-op (as matmul bias: " + with_bias + "); ";
        }
    }
    mm.prim = matmul(mm.pd);
    auto constant = [&](const Operand &o, const memory::desc &chosen, int arg) {
        if (!o.data) return;
        memory m(chosen, c.eng);
        reorder_now(c, wrap(c, o.user_md, o.data), m);
        mm.args[arg] = m;
    };
    constant(src, mm.pd.src_desc(), DNNL_ARG_SRC);
    constant(wei, mm.pd.weights_desc(), DNNL_ARG_WEIGHTS);
    if (bias)
        mm.args[bias_postop ? (DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1) : DNNL_ARG_BIAS] =
            wrap(c, bias->user_md, bias->data);
    mm.args[DNNL_ARG_SCRATCHPAD] = memory(mm.pd.scratchpad_desc(), c.eng);
    mm.notes += "src " + layout(mm.pd.src_desc()) + " wei " + layout(mm.pd.weights_desc());
    return true;
}

// ----------------------------------------------------------------------------------------------- matmul-1x1

Route matmul_1x1(Ctx &c, const Problem &pb, bool channels_last) {
    const Geom g = geom(pb);
    const int64_t CK = g.Cout * g.K;
    Route rt;
    rt.name = channels_last ? "matmul-1x1:channels-last" : "matmul-1x1";
    auto wkc = std::make_shared<std::vector<float>>(channels_last ? g.w_kc(pb) : std::vector<float>());
    auto bias = std::make_shared<std::vector<float>>(pb.b.empty() ? std::vector<float>() : g.bias_ck(pb, channels_last));
    rt.owned.push_back(bias);
    Operand src{md({g.N, g.Cin}, tag::ab), md({g.N, g.Cin}, tag::ab), nullptr};
    Operand wei{md({g.Cin, CK}, tag::any), md({g.Cin, CK}, tag::ab), channels_last ? wkc->data() : pb.w.data()};
    Operand b{md({1, CK}, tag::ab), md({1, CK}, tag::ab), bias->data()};
    Mm mm;
    if (!make_matmul(c, src, wei, pb.b.empty() ? nullptr : &b, md({g.N, CK}, tag::ab), mm)) {
        rt.unsupported = mm.err;
        return rt;
    }
    rt.impl = mm.pd.impl_info_str();
    rt.notes = mm.notes;
    Buf out = buf(pb.out_elems());
    Args args = mm.args;
    args[DNNL_ARG_SRC] = wrap(c, src.pd_md, pb.x.data());  // spatial size 1: NCX and NXC input coincide
    args[DNNL_ARG_DST] = wrap(c, md({g.N, CK}, tag::ab), out->data());
    matmul prim = mm.prim;
    stream s = c.strm;
    rt.run = [=](double *) mutable {
        prim.execute(s, args);
        s.wait();
    };
    const int64_t N = g.N, Cout = g.Cout, K = g.K;
    rt.result = [=] { return channels_last ? nxc_to_ncx(*out, N, Cout, K) : *out; };
    return rt;
}

// ----------------------------------------------------------------------------------------------- matmul-shuffle

enum class Shuffle { xw, wt, channels_last, xw_direct, channels_last_direct };

Route matmul_shuffle(Ctx &c, const Problem &pb, Shuffle kind) {
    const Geom g = geom(pb);
    const int r = g.r;
    const int64_t N = g.N, Cin = g.Cin, Cout = g.Cout, P = g.P, K = g.K, Q = g.Q, CK = Cout * K;
    Route rt;
    rt.name = kind == Shuffle::xw                     ? "matmul-shuffle"
              : kind == Shuffle::wt                   ? "matmul-shuffle:wt"
              : kind == Shuffle::channels_last        ? "matmul-shuffle:channels-last"
              : kind == Shuffle::xw_direct            ? "matmul-shuffle:direct"
                                                      : "matmul-shuffle:channels-last:direct";
    const bool cl = kind == Shuffle::channels_last || kind == Shuffle::channels_last_direct;
    // Data the route owns for its lifetime (channels-last input / weights, repeated bias, output).
    struct Owned {
        std::vector<float> x_nxc, w, bias;
    };
    auto own = std::make_shared<Owned>();
    rt.owned.push_back(own);
    if (cl) {
        own->x_nxc = ncx_to_nxc(pb.x, N, Cin, P);
        own->w = g.w_kc(pb);
    }
    const bool has_bias = !pb.b.empty();
    if (has_bias) own->bias = g.bias_ck(pb, cl);
    const float *x = cl ? own->x_nxc.data() : pb.x.data();
    const float *w = cl ? own->w.data() : pb.w.data();
    Buf out = buf(pb.out_elems());
    stream s = c.strm;
    if (cl) rt.result = [=] { return nxc_to_ncx(*out, N, Cout, Q); };
    else rt.result = [out] { return *out; };

    if (kind == Shuffle::xw || kind == Shuffle::wt || kind == Shuffle::channels_last) {
        // One matmul for the whole batch into a scratch buffer, then one reorder scattering the k-blocks.
        Operand src, wei, bias;
        dims scratch_d, view_d, out_st;
        if (kind == Shuffle::wt) {
            // Wᵀ [Cout·K, Cin] (constant) × X [N, Cin, P] → [N, Cout·K, P]
            src = {md({1, CK, Cin}, tag::any), mds({1, CK, Cin}, {CK * Cin, 1, CK}), w};
            wei = {md({N, Cin, P}, tag::abc), md({N, Cin, P}, tag::abc), nullptr};
            bias = {md({1, CK, 1}, tag::abc), md({1, CK, 1}, tag::abc), own->bias.data()};
            scratch_d = {N, CK, P};
            view_d = {N, Cout};  // [N, Cout, k_1..k_r, in_1..in_r]
            out_st = {Cout * Q, Q};
            for (int i = 0; i < r; i++) view_d.push_back(g.k[i]), out_st.push_back(g.S_ncx[i]);
            for (int i = 0; i < r; i++) view_d.push_back(g.in[i]), out_st.push_back(g.k[i] * g.S_ncx[i]);
        } else {
            // X viewed as [N, P, Cin] × W [Cin, Cout·K] → [N, P, Cout·K]
            dims xst = cl ? dims{P * Cin, Cin, 1} : dims{Cin * P, 1, P};  // NCX: a transposed view, no copy
            src = {mds({N, P, Cin}, xst), mds({N, P, Cin}, xst), nullptr};
            wei = {md({1, Cin, CK}, tag::any), md({1, Cin, CK}, tag::abc), w};
            bias = {md({1, 1, CK}, tag::abc), md({1, 1, CK}, tag::abc), own->bias.data()};
            scratch_d = {N, P, CK};
            view_d = {N};  // NCX: [N, in.., Cout, k..]; channels-last: [N, in.., k.., Cout]
            out_st = {cl ? Q * Cout : Cout * Q};
            const dims &S = cl ? g.S_nxc : g.S_ncx;
            for (int i = 0; i < r; i++) view_d.push_back(g.in[i]), out_st.push_back(g.k[i] * S[i]);
            if (!cl) view_d.push_back(Cout), out_st.push_back(Q);
            for (int i = 0; i < r; i++) view_d.push_back(g.k[i]), out_st.push_back(S[i]);
            if (cl) view_d.push_back(Cout), out_st.push_back(1);
        }
        Mm mm;
        if (!make_matmul(c, src, wei, has_bias ? &bias : nullptr, md(scratch_d, tag::abc), mm)) {
            rt.unsupported = mm.err;
            return rt;
        }
        // Owned by the route (not by a memory object): the per-item calls below and the reorder view point into it.
        Buf scratch_buf = buf((size_t)(N * P * CK));
        rt.owned.push_back(scratch_buf);
        memory scratch = wrap(c, md(scratch_d, tag::abc), scratch_buf->data());
        Args args = mm.args;
        args[DNNL_ARG_DST] = scratch;
        if (kind == Shuffle::wt) args[DNNL_ARG_WEIGHTS] = wrap(c, wei.pd_md, x);
        else args[DNNL_ARG_SRC] = wrap(c, src.pd_md, x);
        std::vector<std::pair<matmul, Args>> calls{{mm.prim, args}};
        rt.impl = mm.pd.impl_info_str();
        rt.notes = mm.notes;
        if (kind == Shuffle::wt && N > 1 && rt.impl.rfind("ref", 0) == 0) {
            // Still the reference kernel for the batched form (src broadcast over the batch): try N 2-D products.
            Mm m2;
            Operand s2{md({CK, Cin}, tag::any), mds({CK, Cin}, {1, CK}), w};
            Operand w2{md({Cin, P}, tag::ab), md({Cin, P}, tag::ab), nullptr};
            Operand b2{md({CK, 1}, tag::ab), md({CK, 1}, tag::ab), own->bias.data()};
            if (make_matmul(c, s2, w2, has_bias ? &b2 : nullptr, md({CK, P}, tag::ab), m2)) {
                rt.notes = "batched [1,CK,Cin]x[N,Cin,P] gets " + rt.impl + ", so N 2-D matmuls; " + m2.notes;
                rt.impl = m2.pd.impl_info_str();
                calls.clear();
                float *scr = scratch_buf->data();
                for (int64_t n = 0; n < N; n++) {
                    Args a = m2.args;
                    a[DNNL_ARG_WEIGHTS] = wrap(c, w2.pd_md, x + n * Cin * P);
                    a[DNNL_ARG_DST] = wrap(c, md({CK, P}, tag::ab), scr + n * CK * P);
                    calls.emplace_back(m2.prim, a);
                }
            }
        }
        const memory::desc view_md = mds(view_d, dense_strides(view_d)), out_md = mds(view_d, out_st);
        memory view = wrap(c, view_md, scratch_buf->data());
        memory outm = wrap(c, out_md, out->data());
        reorder::primitive_desc rpd;
        try {
            rpd = reorder::primitive_desc(c.eng, view_md, c.eng, out_md);
        } catch (const dnnl::error &e) {
            rt.unsupported = "reorder: " + why(e);
            return rt;
        }
        reorder shuf(rpd);
        rt.notes += std::string("; reorder ") + rpd.impl_info_str();
        rt.parts = {"matmul", "reorder"};
        rt.run = [=](double *part) mutable {
            auto t0 = clk::now();
            for (auto &call : calls) call.first.execute(s, call.second);
            s.wait();
            if (part) part[0] = ms_since(t0);
            auto t1 = clk::now();
            shuf.execute(s, view, outm);
            s.wait();
            if (part) part[1] = ms_since(t1);
        };
        return rt;
    }

    // Direct: one batched matmul whose destination descriptor is the output itself (no scratch, no reorder).
    // NCX:           dst [N, Cout, (in_i, k_i) for i < r, in_r, k_r]  = X[N,1,(in_i,1).., in_r, Cin] · W[1,Cout,(1,k_i).., Cin, k_r]
    // channels-last: dst [N, (in_i, k_i) for i < r, in_r, k_r·Cout]   = X[N,(in_i,1).., in_r, Cin] · W'[1,(1,k_i).., Cin, k_r·Cout]
    dims dd, dst_st, sd, sst, wd, wst;
    dims pin(r, 1), pk(r, 1);  // ∏ of the inner input sizes / kernel sizes after axis i
    for (int i = r - 2; i >= 0; i--) pin[i] = pin[i + 1] * g.in[i + 1], pk[i] = pk[i + 1] * g.k[i + 1];
    dd.push_back(N), dst_st.push_back(cl ? Q * Cout : Cout * Q);
    sd.push_back(N), sst.push_back(Cin * P);
    wd.push_back(1), wst.push_back(Cin * K * Cout);
    if (!cl) {
        dd.push_back(Cout), dst_st.push_back(Q);
        sd.push_back(1), sst.push_back(P);
        wd.push_back(Cout), wst.push_back(K);
    }
    const dims &S = cl ? g.S_nxc : g.S_ncx;
    const int64_t cstride = cl ? 1 : P;  // input channel stride
    const int64_t xscale = cl ? Cin : 1;  // input spatial strides are pin[i]·xscale
    const int64_t kscale = cl ? Cout : 1;  // weight tap strides are pk[i]·kscale
    for (int i = 0; i + 1 < r; i++) {
        dd.push_back(g.in[i]), dst_st.push_back(g.k[i] * S[i]);
        dd.push_back(g.k[i]), dst_st.push_back(S[i]);
        sd.push_back(g.in[i]), sst.push_back(pin[i] * xscale);
        sd.push_back(1), sst.push_back(pin[i] * xscale);
        wd.push_back(1), wst.push_back(pk[i] * kscale);
        wd.push_back(g.k[i]), wst.push_back(pk[i] * kscale);
    }
    const int64_t kr = g.k[r - 1], cols = cl ? kr * Cout : kr;
    dd.push_back(g.in[r - 1]), dst_st.push_back(kr * S[r - 1]);
    dd.push_back(cols), dst_st.push_back(1);
    sd.push_back(g.in[r - 1]), sst.push_back(xscale);
    sd.push_back(Cin), sst.push_back(cstride);
    wd.push_back(Cin), wst.push_back(cl ? K * Cout : Cout * K);
    wd.push_back(cols), wst.push_back(1);
    const int nd = (int)dd.size();
    dims bd(nd, 1);
    std::vector<float> &bv = own->bias;
    if (has_bias) {
        if (cl) {  // bias varies along the last (k_r·Cout) dim only
            bd[nd - 1] = cols;
            bv.resize((size_t)cols);  // tap-major [k_r, Cout] tiles of the bias: the first k_r·Cout entries
        } else {  // bias varies along Cout (dim 1) only
            bd[1] = Cout;
            bv = pb.b;
        }
    }
    Operand src{mds(sd, sst), mds(sd, sst), nullptr};
    Operand wei{md(wd, tag::any), mds(wd, wst), w};
    Operand bias{md(bd, tag::any), mds(bd, dense_strides(bd)), bv.data()};
    bias.pd_md = bias.user_md;
    const memory::desc dst_md = mds(dd, dst_st);
    Mm mm;
    if (!make_matmul(c, src, wei, has_bias ? &bias : nullptr, dst_md, mm)) {
        rt.unsupported = mm.err;
        return rt;
    }
    rt.impl = mm.pd.impl_info_str();
    rt.notes = mm.notes + "; dst = the output (" + std::to_string(nd) + "-d batched matmul)";
    rt.only_if_faster_than = cl ? "matmul-shuffle:channels-last" : "matmul-shuffle";
    Args args = mm.args;
    args[DNNL_ARG_SRC] = wrap(c, src.pd_md, x);
    args[DNNL_ARG_DST] = wrap(c, dst_md, out->data());
    matmul prim = mm.prim;
    rt.run = [=](double *) mutable {
        prim.execute(s, args);
        s.wait();
    };
    return rt;
}

// ----------------------------------------------------------------------------------------------- matmul-col2im

size_t g_cols_limit = size_t(256) << 20;  // bytes of columns per chunk

Route matmul_col2im(Ctx &c, const Problem &pb) {
    const Geom g = geom(pb);
    const int64_t N = g.N, Cin = g.Cin, P = g.P, CK = g.Cout * g.K;
    Route rt;
    rt.name = "matmul-col2im";
    const size_t per_item = (size_t)(P * CK) * sizeof(float);
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(N, (int64_t)(g_cols_limit / per_item)));
    // Up to two primitives: full chunks and the remainder.
    std::vector<int64_t> sizes{chunk};
    if (N % chunk) sizes.push_back(N % chunk);
    std::vector<Mm> mms(sizes.size());
    for (size_t i = 0; i < sizes.size(); i++) {
        const int64_t nb = sizes[i];
        Operand src{mds({nb, P, Cin}, {Cin * P, 1, P}), mds({nb, P, Cin}, {Cin * P, 1, P}), nullptr};
        Operand wei{md({1, Cin, CK}, tag::any), md({1, Cin, CK}, tag::abc), pb.w.data()};
        if (!make_matmul(c, src, wei, nullptr, md({nb, P, CK}, tag::abc), mms[i])) {
            rt.unsupported = mms[i].err;
            return rt;
        }
    }
    rt.impl = mms[0].pd.impl_info_str();
    Buf cols = buf((size_t)(chunk * P * CK));
    Buf out = buf(pb.out_elems());
    struct Step {
        matmul prim;
        Args args;
        memory src;
        int64_t n0, nb;
    };
    std::vector<Step> steps;
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        const int64_t nb = std::min(chunk, N - n0);
        Mm &mm = mms[nb == chunk ? 0 : 1];
        Args args = mm.args;
        memory src = wrap(c, mm.pd.src_desc(), pb.x.data() + n0 * Cin * P);
        args[DNNL_ARG_SRC] = src;
        args[DNNL_ARG_DST] = wrap(c, mm.pd.dst_desc(), cols->data());
        steps.push_back({mm.prim, args, src, n0, nb});
    }
    rt.notes = mms[0].notes + "; cols " + std::to_string(chunk * P * CK * 4 >> 20) + " MiB";
    if (steps.size() > 1) rt.notes += ", " + std::to_string(steps.size()) + " batch chunks of " + std::to_string(chunk);
    rt.parts = {"matmul", "col2im"};
    stream s = c.strm;
    const Problem *p = &pb;
    rt.run = [=](double *part) mutable {
        double mm_ms = 0, c2i_ms = 0;
        for (const Step &st : steps) {
            auto t0 = clk::now();
            st.prim.execute(s, st.args);
            s.wait();
            auto t1 = clk::now();
            col2im(*p, cols->data(), st.n0, st.nb, out->data());
            auto t2 = clk::now();
            mm_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
            c2i_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
        }
        if (part) part[0] = mm_ms, part[1] = c2i_ms;
    };
    rt.result = [out] { return *out; };
    return rt;
}

bool wanted_route(const std::vector<std::string> &wanted, const std::string &name) {
    if (wanted.empty()) return true;
    // A filter names a route, or a family: "deconv" or "matmul" match "deconv:any" or "matmul-1x1"; "deconv:any"
    // matches only itself, "matmul-shuffle" the shuffle route and its variants.
    for (const auto &w : wanted)
        if (name.compare(0, w.size(), w) == 0 && (name.size() == w.size() || name[w.size()] == ':' || name[w.size()] == '-'))
            return true;
    return false;
}

uint64_t next(uint64_t &s) {  // splitmix64
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void fill(std::vector<float> &v, uint64_t &state) {
    for (auto &x : v) x = (float)((next(state) >> 40) * (2.0 / 16777216.0) - 1.0);  // uniform [-1, 1)
}

}  // namespace

void set_cols_limit(size_t bytes) { g_cols_limit = bytes; }

Problem::Problem(const Shape &s, uint64_t seed) : sh(s) {
    validate(s);
    r = s.rank;
    N = s.n, Cin = s.cin, Cout = s.cout, G = s.g;
    for (int i = 0; i < r; i++) P *= s.in[i], K *= s.k[i], Q *= s.out(i);
    x.resize((size_t)(N * Cin * P));
    w.resize((size_t)(Cin * (Cout / G) * K));
    if (s.bias) b.resize((size_t)Cout);
    uint64_t state = seed;
    fill(x, state);
    fill(w, state);
    fill(b, state);
}

std::vector<RouteMaker> route_makers(Ctx &c, const Problem &pb, const std::vector<std::string> &wanted) {
    std::vector<RouteMaker> out;
    const Problem *p = &pb;
    Ctx *cp = &c;
    auto add = [&](const std::string &name, std::function<Route()> make) {
        if (!wanted_route(wanted, name)) return;
        // Whatever oneDNN refuses while building (descriptor, primitive, one-off reorder) makes the route unsupported.
        out.push_back({name, [name, make] {
                           try {
                               return make();
                           } catch (const dnnl::error &e) {
                               Route rt;
                               rt.name = name;
                               rt.unsupported = why(e);
                               return rt;
                           }
                       }});
    };
    for (DeconvKind k : {DeconvKind::any, DeconvKind::plain, DeconvKind::channels_last, DeconvKind::any_reorders}) {
        const char *n = k == DeconvKind::any             ? "deconv:any"
                        : k == DeconvKind::plain         ? "deconv:plain"
                        : k == DeconvKind::channels_last ? "deconv:channels-last"
                                                         : "deconv:any+reorders";
        add(n, [=] { return deconv_route(*cp, *p, k); });
    }
    const Shape &s = pb.sh;
    bool one_by_one = pb.G == 1, shuffle = pb.G == 1;
    for (int i = 0; i < pb.r; i++) {
        one_by_one &= s.in[i] == 1 && s.padBegin(i) == 0 && s.padEnd(i) == 0 && s.d[i] == 1;
        shuffle &= s.k[i] == s.s[i] && s.p[i] == 0 && s.op[i] == 0 && s.d[i] == 1;
    }
    if (one_by_one) {
        add("matmul-1x1", [=] { return matmul_1x1(*cp, *p, false); });
        add("matmul-1x1:channels-last", [=] { return matmul_1x1(*cp, *p, true); });
    }
    if (shuffle) {
        const std::pair<Shuffle, const char *> kinds[] = {
            {Shuffle::xw, "matmul-shuffle"},
            {Shuffle::wt, "matmul-shuffle:wt"},
            {Shuffle::xw_direct, "matmul-shuffle:direct"},
            {Shuffle::channels_last, "matmul-shuffle:channels-last"},
            {Shuffle::channels_last_direct, "matmul-shuffle:channels-last:direct"}};
        for (auto &kn : kinds) {
            Shuffle k = kn.first;
            add(kn.second, [=] { return matmul_shuffle(*cp, *p, k); });
        }
    }
    if (pb.G == 1) add("matmul-col2im", [=] { return matmul_col2im(*cp, *p); });
    return out;
}
