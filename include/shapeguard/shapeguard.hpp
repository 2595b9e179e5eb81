#pragma once
/// shapeguard: typed tensor shapes, logits/labels checks at compile time and run time, and a
/// fused softmax and sigmoid cross-entropy.
///
///   #include <shapeguard/shapeguard.hpp>
///   namespace sg = shapeguard;

#include "check.hpp"
#include "compatible.hpp"
#include "errors.hpp"
#include "extents.hpp"
#include "isa.hpp"
#include "labels.hpp"
#include "options.hpp"
#include "outputs.hpp"
#include "sigmoid_cross_entropy.hpp"
#include "softmax_cross_entropy.hpp"
#include "tensor_view.hpp"
#include "vocab_parallel.hpp"
