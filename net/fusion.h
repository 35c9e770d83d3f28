// Layer fusion: which adjacent layers Sequential runs as one kernel.
//
// Forward, on both devices: a layer whose registry entry has forward_with_relu
// (conv2d) immediately followed by a rectifier (relu) runs as one pass,
// Conv2D::forward_relu (on CUDA the SGEMM's bias+ReLU epilogue, on the CPU the
// bias+ReLU applied to each block of output while it is in cache: y written
// once instead of conv, then a second read-modify-write for the ReLU). The
// relu's forward is then skipped and its output IS the conv's output buffer (no
// copy), so the conv's activation (what net/health.h describes) is relu(z).
// Backward is unchanged and still exact:
//   - the conv's backward never reads its output y, so y holding relu(z)
//     instead of z does not matter to it;
//   - the relu's backward computes dx = dy * [x > 0] from its input x, which is
//     now relu(z) instead of z, and relu(z) > 0 exactly when z > 0.
// The outputs are the same bits as unfused: relu(z + b) either way.
// Sequential::set_fusion(false) turns both rules off (the plain reference).
//
// A second rule, on both devices, in backward only: a relu immediately followed
// by a layer whose entry has backward_with_relu (maxpool2d) has its backward run
// inside that layer's: the pool sends dy to each window's winner and applies
// the ReLU's mask there, dx = relu_grad(x, dy), with x the pool's input = the
// relu's output (relu(z) > 0 exactly when z > 0). Everywhere else the pool's dx
// is 0, which the mask keeps 0, so the separate pass over the relu's whole
// input (read x, read dy, write dx) is saved, with the same bits.
#pragma once
#include <vector>

#include "layers/registry.h"

namespace radius {

// kinds[i] = layer i's registry entry (kind_of). Returns fused[i] == true when
// layer i (a conv2d) also applies layer i + 1 (a relu) in its forward, which then
// does nothing in forward. Never true when disabled.
std::vector<bool> plan_conv_relu_fusion(const std::vector<const LayerKind*>& kinds, bool enabled = true);

// folds[i] == true when layer i - 1 is a rectifier whose backward layer i
// (backward_with_relu) runs in its own; the rectifier's backward then does nothing.
std::vector<bool> plan_relu_backward_folds(const std::vector<const LayerKind*>& kinds, bool enabled = true);

}  // namespace radius
