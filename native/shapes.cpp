// Parser for bench/shapes.txt (format in that file's header comment).
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "floor.hpp"

namespace {

int64_t parse_int(const std::string &key, const std::string &v) {
    size_t used = 0;
    long long x = 0;
    try {
        x = std::stoll(v, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used == 0 || used != v.size()) throw std::runtime_error("bad value for " + key + ": '" + v + "'");
    return x;
}

std::vector<int64_t> parse_list(const std::string &key, const std::string &v) {
    std::vector<int64_t> out;
    size_t start = 0;
    while (true) {
        size_t x = v.find('x', start);
        out.push_back(parse_int(key, v.substr(start, x == std::string::npos ? std::string::npos : x - start)));
        if (x == std::string::npos) break;
        start = x + 1;
    }
    return out;
}

std::string join(const std::array<int64_t, 3> &a, int rank) {
    std::string s;
    for (int i = 0; i < rank; i++) s += (i ? "x" : "") + std::to_string(a[i]);
    return s;
}

}  // namespace

double Shape::flops() const {
    double f = 2.0 * n * cin * (cout / g);
    for (int i = 0; i < rank; i++) f *= double(k[i]) * double(in[i]);
    return f;
}

std::string Shape::describe() const {
    std::ostringstream o;
    o << "n=" << n << " cin=" << cin << " cout=" << cout;
    if (g != 1) o << " g=" << g;
    o << " in=" << join(in, rank) << " k=" << join(k, rank);
    auto opt = [&](const char *key, const std::array<int64_t, 3> &a, int64_t dflt) {
        for (int i = 0; i < rank; i++)
            if (a[i] != dflt) {
                o << " " << key << "=" << join(a, rank);
                return;
            }
    };
    opt("s", s, 1);
    opt("p", p, 0);
    opt("op", op, 0);
    opt("d", d, 1);
    if (!bias) o << " bias=0";
    return o.str();
}

void validate(const Shape &sh) {
    auto fail = [&](const std::string &why) { throw std::runtime_error(sh.name + ": " + why); };
    if (sh.rank < 1 || sh.rank > 3) fail("in= must have 1, 2 or 3 sizes");
    if (sh.n < 1 || sh.cin < 1 || sh.cout < 1 || sh.g < 1) fail("n, cin, cout and g must be positive");
    if (sh.cin % sh.g || sh.cout % sh.g) fail("cin and cout must be multiples of g");
    for (int i = 0; i < sh.rank; i++) {
        if (sh.in[i] < 1 || sh.k[i] < 1 || sh.s[i] < 1 || sh.d[i] < 1 || sh.p[i] < 0 || sh.op[i] < 0)
            fail("sizes must be positive, padding and output padding non-negative");
        if (sh.op[i] >= sh.s[i] && sh.op[i] >= sh.d[i])
            fail("output padding must be smaller than either stride or dilation (PyTorch)");
        if (sh.out(i) < 1) fail("empty output on axis " + std::to_string(i));
    }
}

Shape parse_shape_line(const std::string &line) {
    std::istringstream in(line);
    Shape sh;
    if (!(in >> sh.name)) throw std::runtime_error("empty line");
    if (sh.name.find('=') != std::string::npos) throw std::runtime_error("line must start with a name");
    std::vector<std::pair<std::string, std::vector<int64_t>>> per_axis;
    bool have_cin = false, have_cout = false, have_k = false;
    std::string tok;
    while (in >> tok) {
        size_t eq = tok.find('=');
        if (eq == std::string::npos || eq == 0) throw std::runtime_error("expected key=value, got '" + tok + "'");
        std::string key = tok.substr(0, eq), v = tok.substr(eq + 1);
        if (key == "n") sh.n = parse_int(key, v);
        else if (key == "cin") sh.cin = parse_int(key, v), have_cin = true;
        else if (key == "cout") sh.cout = parse_int(key, v), have_cout = true;
        else if (key == "g") sh.g = parse_int(key, v);
        else if (key == "bias") {
            int64_t b = parse_int(key, v);
            if (b != 0 && b != 1) throw std::runtime_error("bias must be 0 or 1");
            sh.bias = b == 1;
        } else if (key == "in") {
            auto l = parse_list(key, v);
            if (l.size() > 3) throw std::runtime_error("in= has more than 3 sizes");
            sh.rank = (int)l.size();
            for (size_t i = 0; i < l.size(); i++) sh.in[i] = l[i];
        } else if (key == "k" || key == "s" || key == "p" || key == "op" || key == "d") {
            if (key == "k") have_k = true;
            per_axis.emplace_back(key, parse_list(key, v));
        } else {
            throw std::runtime_error("unknown key '" + key + "'");
        }
    }
    if (!have_cin || !have_cout || !have_k || sh.rank == 0)
        throw std::runtime_error(sh.name + ": cin, cout, in and k are required");
    for (auto &kv : per_axis) {
        auto &l = kv.second;
        if (l.size() != 1 && (int)l.size() != sh.rank)
            throw std::runtime_error(sh.name + ": " + kv.first + "= needs 1 or " + std::to_string(sh.rank) +
                                     " values");
        std::array<int64_t, 3> *a = kv.first == "k" ? &sh.k
                                  : kv.first == "s" ? &sh.s
                                  : kv.first == "p" ? &sh.p
                                  : kv.first == "op" ? &sh.op
                                                     : &sh.d;
        for (int i = 0; i < sh.rank; i++) (*a)[i] = l.size() == 1 ? l[0] : l[i];
    }
    validate(sh);
    return sh;
}

std::vector<Shape> parse_shapes(const std::string &path) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error("cannot read shapes file " + path);
    std::vector<Shape> out;
    std::string line;
    int no = 0;
    while (std::getline(f, line)) {
        no++;
        size_t hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            out.push_back(parse_shape_line(line));
        } catch (const std::exception &e) {
            throw std::runtime_error(path + ":" + std::to_string(no) + ": " + e.what());
        }
        for (size_t i = 0; i + 1 < out.size(); i++)
            if (out[i].name == out.back().name)
                throw std::runtime_error(path + ":" + std::to_string(no) + ": duplicate name " + out.back().name);
    }
    if (out.empty()) throw std::runtime_error(path + ": no shapes");
    return out;
}
