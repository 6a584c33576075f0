// tinytorch.h - everything a TinyTorch program needs, in one include.
//
//     #include <tinytorch/tinytorch.h>
//
//     tt::manual_seed(0);
//     tt::Tensor x = tt::randn({4, 3});                       // x: (4, 3)
//     tt::Tensor w = tt::randn({3, 2}).requires_grad_();      // w: (3, 2), a leaf
//     tt::Tensor loss = tt::pow(tt::matmul(x, w), 2).sum();   // () : a 0-d tensor
//     loss.backward();                                        // w.grad(): (3, 2) = 2 x^T (x w)
//
// Read the headers in course order: tensor.h (02), autograd.h (06), kernels.h (02, 15).
#pragma once

#include "tinytorch/activations.h"
#include "tinytorch/attention.h"
#include "tinytorch/autograd.h"
#include "tinytorch/data.h"
#include "tinytorch/embedding.h"
#include "tinytorch/errors.h"
#include "tinytorch/gradcheck.h"
#include "tinytorch/kernels.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/random.h"
#include "tinytorch/setup.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"
#include "tinytorch/tokenizer.h"
#include "tinytorch/training.h"
#include "tinytorch/transformer.h"
