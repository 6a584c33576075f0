// test_spatial_network.cpp - module 09 grader: the ops of this module working together, as the
// LeNet and CIFAR milestones use them: conv -> batch norm -> ReLU -> max pool, forward and
// backward, against PyTorch 1.13 (numbers written below), and the shapes of LeNet-5.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = spatial_reference;

TEST_CASE("conv batch norm ReLU and max pool together match PyTorch forward and backward", "[points=2]") {
    // PyTorch 1.13, wave(shape, a, b, scale)[i] = scale * sin(a * i + b):
    //   x = wave((2,2,6,6), .37, .2); w = wave((3,2,3,3), .53, .7, .4); b = wave((3,), 1.1, .3, .1)
    //   gamma = [1.2, .8, -.6]; beta = [.1, -.2, .3]; rm = zeros(3); rv = ones(3)
    //   h = F.conv2d(x, w, b, padding=1); h = F.batch_norm(h, rm, rv, gamma, beta, training=True)
    //   y = F.max_pool2d(F.relu(h), 2); y.backward(wave(y.shape, .29, .1))
    tt::Tensor x = leaf(ref::wave({2, 2, 6, 6}, 0.37, 0.2)), w = leaf(ref::wave({3, 2, 3, 3}, 0.53, 0.7, 0.4));
    tt::Tensor b = leaf(ref::wave({3}, 1.1, 0.3, 0.1)), gamma = leaf(nested({1.2f, 0.8f, -0.6f})), beta = leaf(nested({0.1f, -0.2f, 0.3f}));
    tt::Tensor rm = nested({0, 0, 0}), rv = nested({1, 1, 1});
    const tt::Tensor h = tt::batch_norm(tt::conv2d(x, w, b, 1, 1), rm, rv, gamma, beta, true);
    const tt::Tensor y = tt::max_pool2d(tt::relu(h), 2);
    CHECK_THAT(y, tensor_near(raw({1.46390951f, 2.27244711f, 2.34413958f, 0.789338112f, 1.6983701f, 1.81811368f, 1.21936631f,
                           0.0787360519f, 0.75453651f, 0, 0, 0.270156801f, 1.1362927f, 1.19173408f, 0.794469833f,
                           0.340385705f, 0.213764712f, 0.561363637f, 0.164554775f, 0.0574865006f, 0.585633993f,
                           1.27727699f, 1.35750461f, 1.12254953f, 0.672893941f, 0.629710674f, 0.780388534f,
                           2.05800438f, 1.49161875f, 0, 1.66243815f, 1.27355027f, 1.37297642f, 0.594398558f,
                           0.922708333f, 0.89229846f, 0.583974719f, 1.14631557f, 1.18884718f, 0.684636176f, 0,
                           0.0668441728f, 0.940440118f, 1.18797553f, 1.05301726f, 0.798734963f, 1.28763485f,
                           1.35812402f, 0.991195738f, 0.464819878f, 0.414305717f, 1.09695184f, 1.3581636f, 1.29188013f}, {2, 3, 3, 3}), 1e-5, 1e-4));
    CHECK_THAT(rm, tensor_near(raw({0.0131253032f, 0.000257594802f, 0.0148811555f}, {3}), 1e-6, 1e-4));
    CHECK_THAT(rv, tensor_near(raw({0.9520666f, 0.959209859f, 0.966999352f}, {3}), 1e-6, 1e-4));
    y.backward(ref::wave({2, 3, 3, 3}, 0.29, 0.1));
    CHECK_THAT(x.grad(), tensor_near(raw({-0.33616972f, -0.61446929f, -0.195251763f, 0.134592578f, 0.0558449104f, -0.0264038853f,
                           -0.0329206511f, 0.414079577f, 0.783128202f, 0.351256251f, 0.011875174f, 0.0955782458f,
                           0.542877674f, 0.765253901f, 0.731684089f, 0.72075361f, 0.679110408f, 0.200295925f,
                           0.509657741f, 0.3080028f, 0.0360455215f, 0.621044099f, -0.184633225f, -0.198625773f,
                           -0.114818215f, 0.136277467f, -0.237520739f, -0.674301088f, -0.757519007f, -0.160335124f,
                           -0.284290254f, -0.525048494f, -0.337862164f, -0.569120646f, 0.21639882f, 0.0604366362f,
                           0.166923746f, -0.0699828342f, -0.343808532f, 0.0250304006f, 0.13622418f, 0.0235627461f,
                           -0.478404105f, -0.798253953f, -0.126456484f, 0.0853120834f, 0.0684086382f, 0.0588027239f,
                           -0.25869891f, 0.267387152f, 0.307021409f, -0.166176021f, 0.194540903f, 0.276699066f,
                           0.298833758f, 0.19958429f, 0.387024939f, 0.707180798f, 0.756190479f, 0.263260812f,
                           0.559974134f, 0.547023773f, 0.51138556f, 1.06127977f, -0.313168347f, -0.216938198f,
                           0.0718750954f, 0.311320841f, 0.300252557f, -0.116892241f, 0.073070392f, 0.187083721f,
                           0.359506965f, 0.648674726f, 0.278110027f, 0.100733176f, 0.279130757f, 0.115794465f,
                           -0.000544200942f, -0.783991039f, -1.21980917f, -0.647370815f, -0.118423149f, -0.161997437f,
                           -0.102355689f, -0.316107452f, -0.303399861f, -0.430381894f, -0.74801296f, -0.327861756f,
                           -0.0371426456f, 0.315666735f, 0.239947841f, 0.195197657f, -0.0448125713f, 0.0464766063f,
                           -0.291569799f, -0.480379194f, -0.906483769f, -0.998467326f, -0.86121279f, -0.497355908f,
                           -0.118432216f, -0.0552241877f, -0.176293939f, -0.338420302f, 0.151778147f, 0.323298335f,
                           0.0388359912f, 0.532972693f, 0.708129227f, 0.0804123804f, -0.213896409f, -0.0919331387f,
                           0.365047663f, 0.859677732f, 0.356099784f, 0.0748262107f, 0.400324434f, 0.128115848f,
                           0.0256014504f, -0.387562662f, -0.330974728f, -0.290130019f, -0.359066576f, -0.34141469f,
                           0.027526198f, -0.184727311f, 0.0784681961f, 0.0436481945f, -0.381884366f, -0.234769687f,
                           0.215768173f, 0.186628446f, 0.0190299433f, 0.186373502f, -0.222036406f, -0.31253764f,
                           -0.324451536f, -0.412389308f, -0.746712387f, -1.15326905f, -1.15297794f, -0.663539052f}, {2, 2, 6, 6}), 1e-4, 1e-3));
    CHECK_THAT(w.grad(), tensor_near(raw({2.73410439f, 2.85453868f, 2.78813601f, -1.18673325f, -2.56456017f, -3.26368403f,
                           -1.49801171f, -2.00175643f, -2.3971734f, 0.989468575f, 0.762009919f, 0.42250067f,
                           -2.34606671f, -3.71264768f, -4.36036015f, -1.65051162f, -0.825633407f, -0.720970392f,
                           -2.02882314f, -0.939378917f, 0.307317138f, 1.26841688f, 0.742451131f, 0.506212533f,
                           0.916547775f, 0.631457627f, 0.104840703f, -1.11070764f, -0.0325005576f, 1.22282481f,
                           1.45126581f, 0.4910779f, -0.334056169f, 0.436237484f, 0.568184495f, 0.338170916f,
                           -0.454623908f, 0.233615667f, 0.985863686f, 0.29560259f, -0.0999358222f, -0.114597246f,
                           0.203426436f, 0.672342598f, 0.312547743f, -0.0549248345f, 0.460390657f, 1.12916088f,
                           0.0892142728f, -0.0451978035f, -0.44691366f, 0.544999719f, 0.868489504f, 0.643568695f}, {3, 2, 3, 3}), 1e-4, 1e-3));
    // batch norm subtracts the mean, so the conv bias has (almost exactly) no effect
    CHECK_THAT(b.grad(), tensor_near(raw({0, 0, 0}, {3}), 1e-4, 0));
    CHECK_THAT(gamma.grad(), tensor_near(raw({9.30106258f, -10.4852791f, -9.96503258f}, {3}), 1e-4, 1e-4));
    CHECK_THAT(beta.grad(), tensor_near(raw({7.75942612f, -9.33104134f, 7.88406658f}, {3}), 1e-4, 1e-4));
}

TEST_CASE("LeNet-5 built from these layers has the classic shapes and trains every parameter", "[points=1]") {
    // conv 1 -> 6 (5x5, padding 2), ReLU, max pool, conv 6 -> 16 (5x5), ReLU, max pool, 3 Linear
    tt::Generator gen(5);
    auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = 1, .out_channels = 6, .kernel_size = 5, .padding = 2}, &gen),
        std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2),
        std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = 6, .out_channels = 16, .kernel_size = 5}, &gen),
        std::make_shared<tt::ReLU>(), std::make_shared<tt::MaxPool2d>(2), std::make_shared<tt::Flatten>(),
        std::make_shared<tt::Linear>(400, 120, true, &gen), std::make_shared<tt::ReLU>(), std::make_shared<tt::Linear>(120, 84, true, &gen),
        std::make_shared<tt::ReLU>(), std::make_shared<tt::Linear>(84, 10, true, &gen)});
    CHECK(model->parameter_count() == 61706);
    const tt::Tensor y = (*model)(random_values({3, 1, 28, 28}, 6));
    REQUIRE(y.shape() == tt::Shape{3, 10});
    y.backward(random_values({3, 10}, 7));
    for (const auto& [name, p] : model->named_parameters()) {
        INFO(name);
        REQUIRE(p.grad().defined());
        CHECK(p.grad().shape() == p.shape());
        CHECK(all_finite(p.grad()));
    }
}

TEST_CASE("pooling and batch norm gradients add up when a tensor is used twice", "[points=1]") {
    auto twice = [](const tt::Tensor& t) { return reference_unary(t, [](float v) { return 2 * v; }); };
    const tt::Tensor values = ref::distinct_values({2, 2, 4, 6}, 11);
    const tt::Tensor g = random_values({2, 2, 2, 3}, 12);
    tt::Tensor x = leaf(raw_copy(values));
    (tt::max_pool2d(x, 2) + tt::max_pool2d(x, 2)).backward(g);
    CHECK_THAT(x.grad(), tensor_near(twice(ref::max_pool2d_grad(values, g, 2, 2, 0)), 1e-6, 1e-6));
    tt::Tensor z = leaf(raw_copy(values));
    (tt::avg_pool2d(z, 2) + tt::avg_pool2d(z, 2)).backward(g);
    CHECK_THAT(z.grad(), tensor_near(twice(ref::avg_pool2d_grad(values, g, 2, 2, 0)), 1e-6, 1e-6));
    // batch norm: the same weight and bias in two calls; the input does not require grad
    tt::Tensor w = leaf(nested({0.5f, 2})), b = leaf(nested({1, -1}));
    const tt::Tensor gb = random_values({2, 2, 4, 6}, 13);
    (tt::batch_norm(values, tt::Tensor(), tt::Tensor(), w, b, true) + tt::batch_norm(values, tt::Tensor(), tt::Tensor(), w, b, true))
        .backward(gb);
    const ref::BatchNormGrads expected = ref::batch_norm_train_grads(values, {0.5f, 2}, gb, 1e-5f);
    CHECK_THAT(w.grad(), tensor_near(twice(expected.dw), 1e-4, 1e-4));
    CHECK_THAT(b.grad(), tensor_near(twice(expected.db), 1e-4, 1e-4));
}
