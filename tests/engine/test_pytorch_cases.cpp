// test_pytorch_cases.cpp - the engine against PyTorch, case by case (modules 02-05).
//
// tests/engine/pytorch/cases.json holds what PyTorch 1.13 computes for the ops of modules 02-05 -
// elementwise ops with broadcasting, reductions, views, matmul, factories, activations, Linear and
// the losses - on ordinary and edge inputs (zero-size dims, NaN and infinities, huge and tiny
// magnitudes, non-contiguous layouts, 0-d tensors): each case's inputs, its output (or the fact
// that PyTorch refuses the inputs) and the gradients of sum(output * w) for a fixed random w.
// tests/engine/pytorch/generate_cases.py writes it (run by hand; nothing here needs Python).
//
// For every case this test builds the same inputs (a contiguous leaf per input, then the same
// chain of view ops), runs the engine's op, and compares:
//   - values: |engine - torch| <= atol + rtol * |torch| (1e-6 and 1e-5 unless the case says
//     otherwise), NaN exactly where PyTorch has NaN, the same infinities;
//   - errors: where PyTorch raises, the engine must throw tt::Error;
//   - gradients: each leaf's .grad after output.backward(w), with the same rule. An undefined
//     .grad is accepted only where PyTorch's gradient is all zeros (PyTorch also leaves inputs
//     unreached by the graph without a gradient).
// A case with an `engine` entry is a documented deviation from PyTorch (its `deviation` says which
// rule of the engine and why): its output and gradients are checked against that entry instead.
// Each module's cases are one TEST_CASE, and every disagreement is reported with the case name.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

#ifndef TT_PYTORCH_CASES
#error "TT_PYTORCH_CASES (the path of tests/engine/pytorch/cases.json) must be defined by the build"
#endif

using json = nlohmann::json;
using namespace tt::testing;

namespace {

// ---------------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------------

const json& fixture() {
    static const json document = [] {
        std::ifstream in(TT_PYTORCH_CASES);
        if (!in) throw std::runtime_error(std::string("cannot open ") + TT_PYTORCH_CASES);
        return json::parse(in);
    }();
    return document;
}

float decode_value(const json& v) {
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
        if (s == "inf") return std::numeric_limits<float>::infinity();
        if (s == "-inf") return -std::numeric_limits<float>::infinity();
        throw std::runtime_error("cases.json: unknown value \"" + s + "\"");
    }
    return static_cast<float>(v.get<double>());
}

struct Expected {
    tt::Shape shape;
    std::vector<float> values;
};

Expected decode(const json& t) {
    Expected e;
    e.shape = t.at("shape").get<tt::Shape>();
    for (const json& v : t.at("values")) e.values.push_back(decode_value(v));
    return e;
}

// A fresh contiguous tensor (raw storage, not the engine's factories) holding the expected values.
tt::Tensor to_tensor(const Expected& e) { return raw(e.values, e.shape); }

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

std::string format(float v) {
    std::ostringstream out;
    out << std::setprecision(9) << v;
    return out.str();
}

// Nothing when `actual` matches; otherwise what differs: the shape, or how many elements and the
// first few of them (flat row-major index: engine vs PyTorch).
std::optional<std::string> mismatch(const tt::Tensor& actual, const Expected& expected, double atol, double rtol) {
    if (auto problem = layout_problem(actual)) return "unreadable result: " + *problem;
    if (actual.shape() != expected.shape)
        return "shape " + shape_text(actual.shape()) + ", PyTorch " + shape_text(expected.shape);
    const std::vector<float> got = values_of(actual);
    int64_t wrong = 0;
    std::string listed;
    for (size_t i = 0; i < got.size(); ++i) {
        const double a = got[i], e = expected.values[i];
        bool ok;
        if (std::isnan(e) || std::isnan(a)) {
            ok = std::isnan(e) && std::isnan(a);
        } else if (std::isinf(e) || std::isinf(a)) {
            ok = a == e;
        } else {
            ok = std::fabs(a - e) <= atol + rtol * std::fabs(e);
        }
        if (ok) continue;
        if (++wrong <= 4)
            listed += (listed.empty() ? "" : ", ") + shape_text(unravel(static_cast<int64_t>(i), expected.shape)) + " engine " +
                      format(got[i]) + " vs " + format(expected.values[i]);
    }
    if (wrong == 0) return std::nullopt;
    return std::to_string(wrong) + " of " + std::to_string(got.size()) + " elements differ: " + listed + (wrong > 4 ? ", ..." : "");
}

bool all_zero(const Expected& e) {
    return std::all_of(e.values.begin(), e.values.end(), [](float v) { return v == 0.0f; });
}

// ---------------------------------------------------------------------------------------------
// Inputs and views
// ---------------------------------------------------------------------------------------------

tt::Tensor apply_view(tt::Tensor t, const json& view) {
    for (const json& step : view) {
        const std::string kind = step.at(0);
        if (kind == "t") {
            t = t.t();
        } else if (kind == "transpose") {
            t = t.transpose(step.at(1), step.at(2));
        } else if (kind == "permute") {
            t = t.permute(step.at(1).get<std::vector<int64_t>>());
        } else if (kind == "slice") {
            t = t.slice(step.at(1), step.at(2), step.at(3), step.at(4));
        } else if (kind == "select") {
            t = t.select(step.at(1), step.at(2));
        } else if (kind == "expand") {
            t = t.expand(step.at(1).get<tt::Shape>());
        } else if (kind == "unsqueeze") {
            t = t.unsqueeze(step.at(1));
        } else {
            throw std::runtime_error("cases.json: unknown view step " + kind);
        }
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// The ops: the engine's counterpart of generate_cases.py's OPS table
// ---------------------------------------------------------------------------------------------

struct Result {
    tt::Tensor out;
    // Where each input's gradient ends up when not in the input's own leaf (Linear's parameters);
    // an undefined entry means the leaf.
    std::vector<tt::Tensor> grad_holders;
};

using Args = json;
using Op = std::function<Result(const std::vector<tt::Tensor>& x, const Args& args)>;

tt::Reduction reduction_of(const Args& args) {
    const std::string r = args.value("reduction", std::string("mean"));
    if (r == "mean") return tt::Reduction::mean;
    if (r == "sum") return tt::Reduction::sum;
    if (r == "none") return tt::Reduction::none;
    throw std::runtime_error("cases.json: unknown reduction " + r);
}

Op unary(tt::Tensor (*f)(const tt::Tensor&)) {
    return [f](const std::vector<tt::Tensor>& x, const Args&) { return Result{f(x.at(0)), {}}; };
}
Op binary(tt::Tensor (*f)(const tt::Tensor&, const tt::Tensor&)) {
    return [f](const std::vector<tt::Tensor>& x, const Args&) { return Result{f(x.at(0), x.at(1)), {}}; };
}
// sum/mean/max/argmax: over everything without "dim", else along it.
Op reduction(tt::Tensor (*all)(const tt::Tensor&), tt::Tensor (*along)(const tt::Tensor&, int64_t, bool)) {
    return [all, along](const std::vector<tt::Tensor>& x, const Args& args) {
        if (!args.contains("dim")) return Result{all(x.at(0)), {}};
        return Result{along(x.at(0), args.at("dim"), args.value("keepdim", false)), {}};
    };
}

Result linear(const std::vector<tt::Tensor>& x, const Args&) {
    // The layer's own parameters get the fixture's values; its gradients are read from them.
    const tt::Tensor& weight = x.at(1);
    const bool has_bias = x.size() > 2;
    auto layer = std::make_shared<tt::Linear>(weight.size(1), weight.size(0), has_bias);
    {
        tt::NoGradGuard no_grad;
        layer->weight.copy_(weight);
        if (has_bias) layer->bias.copy_(x.at(2));
    }
    Result r{layer->forward(x.at(0)), {tt::Tensor(), layer->weight}};  // x: its own leaf
    if (has_bias) r.grad_holders.push_back(layer->bias);
    return r;
}

const std::map<std::string, Op>& ops() {
    using V = const std::vector<tt::Tensor>&;
    using A = const Args&;
    static const std::map<std::string, Op> table = {
        // 02: elementwise
        {"add", binary(tt::add)},
        {"sub", binary(tt::sub)},
        {"mul", binary(tt::mul)},
        {"div", binary(tt::div)},
        {"neg", unary(tt::neg)},
        {"exp", unary(tt::exp)},
        {"log", unary(tt::log)},
        {"sqrt", unary(tt::sqrt)},
        {"pow", [](V x, A a) { return Result{tt::pow(x.at(0), a.at("exponent").get<float>()), {}}; }},
        {"pow_tensor", [](V x, A) { return Result{tt::pow(x.at(0), x.at(1)), {}}; }},
        {"eq", binary(tt::eq)},
        {"ne", binary(tt::ne)},
        {"lt", binary(tt::lt)},
        {"le", binary(tt::le)},
        {"gt", binary(tt::gt)},
        {"ge", binary(tt::ge)},
        // 02: reductions
        {"sum", reduction(tt::sum, tt::sum)},
        {"mean", reduction(tt::mean, tt::mean)},
        {"max", reduction(tt::max, tt::max)},
        {"argmax", reduction(tt::argmax, tt::argmax)},
        // 02: views
        {"reshape", [](V x, A a) { return Result{x.at(0).reshape(a.at("shape").get<tt::Shape>()), {}}; }},
        {"view", [](V x, A a) { return Result{x.at(0).view(a.at("shape").get<tt::Shape>()), {}}; }},
        {"transpose", [](V x, A a) { return Result{x.at(0).transpose(a.at("dim0"), a.at("dim1")), {}}; }},
        {"t", [](V x, A) { return Result{x.at(0).t(), {}}; }},
        {"permute", [](V x, A a) { return Result{x.at(0).permute(a.at("dims").get<std::vector<int64_t>>()), {}}; }},
        {"slice", [](V x, A a) { return Result{x.at(0).slice(a.at("dim"), a.at("start"), a.at("end"), a.value("step", 1)), {}}; }},
        {"select", [](V x, A a) { return Result{x.at(0).select(a.at("dim"), a.at("index")), {}}; }},
        {"squeeze", [](V x, A a) { return Result{a.contains("dim") ? x.at(0).squeeze(a.at("dim").get<int64_t>()) : x.at(0).squeeze(), {}}; }},
        {"unsqueeze", [](V x, A a) { return Result{x.at(0).unsqueeze(a.at("dim")), {}}; }},
        {"expand", [](V x, A a) { return Result{x.at(0).expand(a.at("shape").get<tt::Shape>()), {}}; }},
        {"flatten", [](V x, A a) { return Result{x.at(0).flatten(a.value("start_dim", 0), a.value("end_dim", -1)), {}}; }},
        {"contiguous", [](V x, A) { return Result{x.at(0).contiguous(), {}}; }},
        {"clone", [](V x, A) { return Result{x.at(0).clone(), {}}; }},
        // 02: matmul and factories
        {"matmul", binary(tt::matmul)},
        {"arange", [](V, A a) { return Result{tt::arange(a.at("start").get<float>(), a.at("end").get<float>(), a.at("step").get<float>()), {}}; }},
        // 03
        {"relu", unary(tt::relu)},
        {"leaky_relu", [](V x, A a) { return Result{tt::leaky_relu(x.at(0), a.value("negative_slope", 0.01f)), {}}; }},
        {"sigmoid", unary(tt::sigmoid)},
        {"tanh", unary(tt::tanh)},
        {"gelu",
         [](V x, A a) {
             const bool approximate = a.value("approximate", std::string("none")) == "tanh";
             return Result{tt::gelu(x.at(0), approximate ? tt::GeluApproximation::tanh : tt::GeluApproximation::none), {}};
         }},
        {"softmax", [](V x, A a) { return Result{tt::softmax(x.at(0), a.at("dim")), {}}; }},
        {"log_softmax", [](V x, A a) { return Result{tt::log_softmax(x.at(0), a.at("dim")), {}}; }},
        // 04
        {"linear", linear},
        // 05
        {"mse_loss", [](V x, A a) { return Result{tt::mse_loss(x.at(0), x.at(1), reduction_of(a)), {}}; }},
        {"cross_entropy",
         [](V x, A a) { return Result{tt::cross_entropy(x.at(0), x.at(1), reduction_of(a), a.value("label_smoothing", 0.0f)), {}}; }},
        {"binary_cross_entropy", [](V x, A a) { return Result{tt::binary_cross_entropy(x.at(0), x.at(1), reduction_of(a)), {}}; }},
        {"binary_cross_entropy_with_logits",
         [](V x, A a) { return Result{tt::binary_cross_entropy_with_logits(x.at(0), x.at(1), reduction_of(a)), {}}; }},
    };
    return table;
}

// ---------------------------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------------------------

// Runs one case; returns what disagrees with PyTorch (empty: the case passes).
std::vector<std::string> run_case(const json& c) {
    std::vector<std::string> problems;
    const std::string op_name = c.at("op");
    const auto op = ops().find(op_name);
    if (op == ops().end()) return {"no engine op for \"" + op_name + "\" in test_pytorch_cases.cpp"};
    const double atol = c.value("atol", fixture().at("default_atol").get<double>());
    const double rtol = c.value("rtol", fixture().at("default_rtol").get<double>());
    const json* engine = c.contains("engine") ? &c.at("engine") : nullptr;

    std::vector<tt::Tensor> leaves, seen;
    for (const json& input : c.at("inputs")) {
        tt::Tensor leaf = to_tensor(decode(input));
        if (input.at("grad").get<bool>()) leaf.requires_grad_();
        leaves.push_back(leaf);
    }

    Result result;
    try {
        for (size_t i = 0; i < leaves.size(); ++i) seen.push_back(apply_view(leaves[i], c.at("inputs")[i].at("view")));
        result = op->second(seen, c.at("args"));
    } catch (const tt::Error& e) {
        if (c.contains("error")) return {};  // refused, like PyTorch
        return {std::string("threw tt::Error \"") + e.what() + "\"; PyTorch gives a result"};
    } catch (const std::exception& e) {
        return {std::string("threw a non-tt::Error exception \"") + e.what() + "\"" +
                (c.contains("error") ? " (PyTorch raises too; user mistakes must throw tt::Error)" : "")};
    }
    if (c.contains("error"))
        return {"returned " + describe_tensor(result.out) + " where PyTorch raises \"" + c.at("error").get<std::string>() + "\""};

    const Expected expected = decode(engine ? engine->at("output") : c.at("output"));
    if (auto m = mismatch(result.out, expected, atol, rtol)) problems.push_back("output: " + *m);

    if (!c.contains("grads")) return problems;
    if (!result.out.requires_grad()) {
        problems.push_back("the output does not require grad: no gradient reaches the inputs");
        return problems;
    }
    try {
        result.out.backward(to_tensor(decode(c.at("grad_output"))));
    } catch (const std::exception& e) {
        problems.push_back(std::string("backward threw \"") + e.what() + "\"");
        return problems;
    }
    const json& grads = engine && engine->contains("grads") ? engine->at("grads") : c.at("grads");
    for (size_t i = 0; i < leaves.size(); ++i) {
        if (grads.at(i).is_null()) continue;
        const Expected want = decode(grads.at(i));
        const bool held = i < result.grad_holders.size() && result.grad_holders[i].defined();
        const tt::Tensor holder = held ? result.grad_holders[i] : leaves[i];
        const tt::Tensor got = holder.grad();
        const std::string which = "gradient of input " + std::to_string(i) + ": ";
        if (!got.defined()) {
            if (!all_zero(want)) problems.push_back(which + "undefined (no gradient reached it)");
            continue;
        }
        if (auto m = mismatch(got, want, atol, rtol)) problems.push_back(which + *m);
    }
    return problems;
}

// Runs every case of `module` and reports each disagreement as a failed check naming the case.
void check_module(const std::string& module) {
    int64_t count = 0, failed = 0;
    for (const json& c : fixture().at("cases")) {
        if (c.at("module") != module) continue;
        ++count;
        const std::string name = c.at("name");
        std::vector<std::string> problems;
        try {
            problems = run_case(c);
        } catch (const std::exception& e) {
            problems.push_back(std::string("the test itself failed: ") + e.what());
        }
        if (problems.empty()) continue;
        ++failed;
        std::string text = "[" + name + "] (" + c.at("op").get<std::string>() + ", module " + module + ") disagrees with PyTorch:";
        for (const std::string& p : problems) text += "\n    " + p;
        FAIL_CHECK(text);
    }
    INFO(failed << " of " << count << " cases of module " << module << " disagree with PyTorch");
    CHECK(count > 0);
    CHECK(failed == 0);
}

}  // namespace

TEST_CASE("pytorch cases: the fixture is readable and every case names a known op", "[pytorch]") {
    const json& cases = fixture().at("cases");
    CHECK(cases.size() >= 300);
    std::set<std::string> names;
    for (const json& c : cases) {
        const std::string name = c.at("name");
        INFO(name);
        CHECK(names.insert(name).second);
        CHECK(ops().count(c.at("op").get<std::string>()) == 1);
        CHECK((c.contains("output") != c.contains("error")));
    }
}

TEST_CASE("pytorch cases: module 02 tensor ops, views, reductions, matmul and their gradients", "[pytorch][02]") {
    check_module("02");
}

TEST_CASE("pytorch cases: module 03 activations and their gradients", "[pytorch][03]") { check_module("03"); }

TEST_CASE("pytorch cases: module 04 Linear and its gradients", "[pytorch][04]") { check_module("04"); }

TEST_CASE("pytorch cases: module 05 losses and their gradients", "[pytorch][05]") { check_module("05"); }
