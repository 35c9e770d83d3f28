// Radius as a library: the one header a program includes.
//
//   find_package(Radius 0.1 REQUIRED)                  # CMakeLists.txt
//   target_link_libraries(app PRIVATE Radius::radius)
//   #include <radius/radius.h>                         // the program
//
// (pkg-config: `pkg-config --cflags --libs radius`.) examples/ holds three programs
// that build against the installed package: a CNN trained on a folder, inference of
// a saved run, and a layer defined outside Radius used in a spec.
//
// What is public, and stable within a minor version (0.1.x): the names declared in
// the headers included below, as they are documented there.
//   model        Sequential (net/sequential.h), the layers (layers/*.h), the layer
//                contract (layers/layer.h) and the registry that adds kinds
//                (layers/registry.h: register_layer_kind), spec files (net/spec.h)
//   weights      save_weights / load_weights (net/safetensors.h), checkpoints
//                (net/checkpoint.h), a trained run (net/inference.h)
//   data         list_dataset: class folders or a CSV manifest (data/dataset.h),
//                ImageCache (data/image_cache.h), Loader with augmentation
//                (data/loader.h, data/augment.h), group-aware splits (data/splits.h)
//   training     fit with FitOptions and a FitObserver (net/fit.h), Adam and SGD
//                (optim/), learning-rate schedules (optim/schedule.h)
//   evaluation   predict_samples (net/inference.h), compute_metrics and the
//                reports (eval/metrics.h), predictions CSV (eval/predictions_csv.h)
//   build        build_info() and the RADIUS_VERSION macros (radius/build_info.h)
// Everything else is internal and may change in any release: kernels/ (the CUDA
// kernels), the layers' free forward/backward functions, io/, the plotting and
// report code in eval/, and the radius program's sources (apps/, not installed).
#pragma once

#include "radius/build_info.h"
#include "radius/version.h"

#include "tensor/device.h"
#include "tensor/parallel.h"
#include "tensor/shape.h"
#include "tensor/tensor.h"

#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/layer.h"
#include "layers/pool2d.h"
#include "layers/registry.h"

#include "net/checkpoint.h"
#include "net/fit.h"
#include "net/inference.h"
#include "net/safetensors.h"
#include "net/sequential.h"
#include "net/spec.h"

#include "optim/adam.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_cache.h"
#include "data/loader.h"
#include "data/splits.h"

#include "eval/history.h"
#include "eval/metrics.h"
#include "eval/predictions_csv.h"
