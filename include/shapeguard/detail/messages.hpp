#pragma once
// The sentences every check says, written once: the static path pastes them into
// `static_assert` messages (which must be string literals), the run-time path formats them
// with the numbers it found.

#define SHAPEGUARD_OP "softmax_cross_entropy"
#define SHAPEGUARD_HINT_SAME_BATCH "logits and labels must come from the same batch"
#define SHAPEGUARD_HINT_ONE_HOT_WIDTH "one-hot encode with as many columns as the logits have classes"
#define SHAPEGUARD_HINT_TRAILING_AXIS \
  "drop the trailing axis and pass integer class indices with the logits' batch shape"
#define SHAPEGUARD_HINT_LOOKS_ONE_HOT                                                 \
  "integer labels with the logits' rank look one-hot encoded: wrap them with sg::one_hot, " \
  "or pass class indices without the class axis"
#define SHAPEGUARD_HINT_NO_CLASS_AXIS \
  "floating labels without the class axis: pass integer class indices (or per-class targets " \
  "with the logits' shape)"
#define SHAPEGUARD_HINT_FLAT_LOGITS                                                           \
  "rank-1 logits are the classes of one sample: view a flat buffer of N * C logits as [N, C], " \
  "sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>(data, n, c)"
#define SHAPEGUARD_HINT_CLASSES_FIRST                                                          \
  "the labels fit logits in PyTorch's [N, C, ...] order, with the classes on axis 1: pass "   \
  "sg::class_axis<1>(logits), and the gradient the same way"
#define SHAPEGUARD_HINT_RANK \
  "class indices have the logits' rank minus one; per-class targets have the logits' rank"
#define SHAPEGUARD_HINT_FLOATING_LOGITS \
  "logits need a floating element type (float, double, sg::bfloat16 or sg::float16)"
#define SHAPEGUARD_HINT_FLOATING_LABELS \
  "floating labels need float, double, sg::bfloat16 or sg::float16 elements, and 16-bit " \
  "labels float or 16-bit logits"
#define SHAPEGUARD_HINT_SIGMOID_LOGITS "logits need a floating element type (float or double)"
#define SHAPEGUARD_HINT_SIGMOID_LABELS "floating labels need float or double elements"
#define SHAPEGUARD_HINT_LOGITS_RANK "logits need at least one axis, the class axis (the last)"
#define SHAPEGUARD_HINT_GRAD_TYPE "grad needs the logits' element type"
#define SHAPEGUARD_HINT_SINGLE_CLASS \
  "a softmax over one class is always 1 and its loss always 0, whatever the labels: for a " \
  "binary classifier with one output unit use sigmoid_cross_entropy, or give the output " \
  "layer 2 units"

#define SHAPEGUARD_MSG_BATCH SHAPEGUARD_OP ": batch size mismatch: " SHAPEGUARD_HINT_SAME_BATCH
#define SHAPEGUARD_MSG_CLASSES SHAPEGUARD_OP ": class count mismatch: " SHAPEGUARD_HINT_ONE_HOT_WIDTH
#define SHAPEGUARD_MSG_TRAILING SHAPEGUARD_OP ": [N, 1] labels for [N, C] logits: " SHAPEGUARD_HINT_TRAILING_AXIS
#define SHAPEGUARD_MSG_LOOKS_ONE_HOT SHAPEGUARD_OP ": rank mismatch: " SHAPEGUARD_HINT_LOOKS_ONE_HOT
#define SHAPEGUARD_MSG_NO_CLASS_AXIS SHAPEGUARD_OP ": rank mismatch: " SHAPEGUARD_HINT_NO_CLASS_AXIS
#define SHAPEGUARD_MSG_FLAT_LOGITS SHAPEGUARD_OP ": rank mismatch: " SHAPEGUARD_HINT_FLAT_LOGITS
#define SHAPEGUARD_MSG_CLASSES_FIRST SHAPEGUARD_OP ": batch size mismatch: " SHAPEGUARD_HINT_CLASSES_FIRST
#define SHAPEGUARD_MSG_RANK SHAPEGUARD_OP ": rank mismatch: " SHAPEGUARD_HINT_RANK
#define SHAPEGUARD_MSG_SINGLE_CLASS SHAPEGUARD_OP ": logits with one class: " SHAPEGUARD_HINT_SINGLE_CLASS
