// The fuzz targets' bodies: one function per input surface, each taking the raw
// bytes of one input. Header-only so two programs share them:
//  - tests/fuzz/fuzz_<surface>.cpp wraps each in LLVMFuzzerTestOneInput (libFuzzer);
//  - tests/test_fuzz_corpus.cpp replays every committed seed and every kept crash
//    input (tests/fuzz/corpus/, tests/fuzz/regressions/) in the normal test suite.
//
// The contract being fuzzed: bad input raises the surface's documented error type
// (DecodeError, std::invalid_argument, std::runtime_error naming the file); it never
// crashes, hangs, reads out of bounds, overflows, or throws anything else. The targets
// catch exactly the documented errors, so any other exception escapes and libFuzzer
// reports it as a crash ("uncaught exception").
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/training_options.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "data/dicom.h"
#include "data/resize.h"
#include "net/checkpoint.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "optim/adam.h"

namespace radius::fuzz {

// The file-reading surfaces take a path: the bytes go to a per-process scratch file
// (on tmpfs when there is one, so an iteration costs no disk I/O).
// The folder is removed at exit (not after a crash: libFuzzer then stops at once).
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    path = base / ("radius_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline std::string scratch_file(const std::string& name, std::span<const uint8_t> bytes) {
  static const ScratchDir dir;
  const std::string path = (dir.path / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

// Decoded images must be what the header promised, and resizing them to a model's
// input (both interpolations, down and up) must work. The bilinear resizes and the
// channel conversion run on images up to 1 megapixel: the code path is the same at any
// size, and a 112-byte progressive JPEG that decodes to 2290 x 12545 (within the limits;
// 0.2 s in a release build) took 12 s through them under ASan, a fuzzer timeout that
// found nothing but time (kept in regressions/jpeg/); with the bilinear downscale of its
// 28.7 megapixels still in, such inputs kept the JPEG target at ~100 executions/s.
inline void check_decoded(const Image& img) {
  if (img.width <= 0 || img.height <= 0 || img.channels != 3 ||
      img.pixels.size() != size_t(img.width) * size_t(img.height) * 3)
    throw std::logic_error("decoded image with inconsistent sizes");
  (void)resize(img, 7, 5, Interpolation::nearest);
  if (int64_t(img.width) * img.height > 1'000'000) return;
  (void)resize(img, 7, 5, Interpolation::bilinear);
  (void)resize(img, img.width + 3, img.height + 1, Interpolation::bilinear);
  (void)convert_channels(img, 1);
}

// The largest frame any JPEG start-of-frame marker (SOF0-SOF15 but DHT, JPG, DAC) in
// the bytes declares, in pixels; 0 for none. A plain scan: a filter for the harness, not
// a parser (a byte pair that only looks like a marker just makes the filter stricter).
inline int64_t largest_jpeg_frame(const uint8_t* data, size_t size) {
  int64_t largest = 0;
  for (size_t i = 0; i + 8 < size; ++i) {
    const uint8_t m = data[i + 1];
    if (data[i] != 0xFF || m < 0xC0 || m > 0xCF || m == 0xC4 || m == 0xC8 || m == 0xCC) continue;
    const int64_t height = data[i + 5] << 8 | data[i + 6], width = data[i + 7] << 8 | data[i + 8];
    largest = std::max(largest, height * width);
  }
  return largest;
}

// JPEG inputs that declare frames over this are not decoded: libjpeg-turbo takes ~0.2 s
// for 28 megapixels, and the fuzzer, once it has such an input, mutates it again and
// again (~300 executions/s). What they would exercise, the size limits, is the same
// code as for a small frame; tests/test_corrupt_corpus.cpp tests the limits themselves
// (a 20000 x 20000 JPEG header is refused as too large).
inline constexpr int64_t kFuzzMaxJpegPixels = 4'000'000;

// PNG and JPEG: our wrappers over libpng / libjpeg-turbo, with the size limits.
inline int decode_image_input(const uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8 && largest_jpeg_frame(data, size) > kFuzzMaxJpegPixels)
    return 0;
  try {
    check_decoded(decode_image_bytes({data, size}, ColorMode::rgb, "fuzz-input"));
  } catch (const DecodeError&) {
  }
  return 0;
}

// DICOM: DCMTK's parser and codecs behind our checks (transfer syntax, frames, photometric,
// dimensions, pixel data length), then modality rescale, windowing and inversion into a
// 16-bit image, which must be whole and resizable; and the audit's header read.
inline int dicom_input(const uint8_t* data, size_t size) {
  try {
    const Image img = decode_image_bytes({data, size}, ColorMode::gray, "fuzz.dcm", {true, {}});
    const size_t n = size_t(img.width) * size_t(img.height);
    if (img.width <= 0 || img.height <= 0 || img.channels != 1 ||
        (img.depth == 16 ? img.pixels16.size() : img.pixels.size()) != n)
      throw std::logic_error("decoded DICOM image with inconsistent sizes");
    (void)resize(img, 7, 5, Interpolation::nearest);
    (void)resize(img, 7, 5, Interpolation::bilinear);
  } catch (const DecodeError&) {
  }
  try {
    (void)read_dicom_tags({data, size}, "fuzz.dcm");
  } catch (const DecodeError&) {
  }
  return 0;
}

// The model spec parser; a parsed model must describe itself without allocating weights.
inline int model_spec_input(const uint8_t* data, size_t size) {
  try {
    const auto model = parse_model_spec(std::string(reinterpret_cast<const char*>(data), size), "fuzz.spec");
    (void)model->num_params();
    (void)model->forward_flops();
    (void)model->summary();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

// The safetensors reader (weights files; checkpoints are safetensors too).
inline int safetensors_input(const uint8_t* data, size_t size) {
  const std::string path = scratch_file("fuzz.safetensors", {data, size});
  try {
    (void)read_safetensors(path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}

// The CSV manifest reader (read_csv + list_dataset's manifest rules and group keys).
inline int manifest_input(const uint8_t* data, size_t size) {
  const std::string path = scratch_file("manifest.csv", {data, size});
  try {
    (void)list_dataset(path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}

// The run/resume state: a checkpoint file as --resume reads it (format, checksum, the
// state JSON), then applied to models/tiny.spec's architecture with Adam, as resuming
// does. A checkpoint that loads must fit or be refused with a runtime_error.
inline int checkpoint_input(const uint8_t* data, size_t size) {
  static const auto model = [] {
    auto m = parse_model_spec(
        "input height=8 width=8 channels=1\nconv2d filters=2 kernel=3 activation=relu\n"
        "flatten\ndropout rate=0.5\ndense units=1 activation=sigmoid\n",
        "fuzz-model");
    m->init(1);
    return m;
  }();
  const std::string path = scratch_file("last.ckpt.safetensors", {data, size});
  try {
    const CheckpointFile ckpt = read_checkpoint(path);
    Adam adam(AdamConfig::keras(1e-3f));
    (void)apply_checkpoint(ckpt, path, *model, &adam);
  } catch (const std::runtime_error&) {
  }
  return 0;
}

// The state JSON alone (the checkpoint's "state" metadata), without the checksum in the
// way.
inline int state_json_input(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    (void)state_to_json(state_from_json(j));
  } catch (const std::runtime_error&) {
  }
  return 0;
}

// A run's config.json as `radius train --resume` reads its recipe (apps/training_options.h):
// a value of the wrong type, out of the type's range or out of the option's range or
// words is refused with a runtime_error naming the key. What is read must be a recipe the
// command line could have given: written back and read again it is accepted, unchanged.
inline int config_input(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  app::TrainingOptions o;
  try {
    app::read_training_config(j, o, {});
  } catch (const std::runtime_error&) {
    return 0;
  }
  const nlohmann::json written = app::training_config(o);
  app::TrainingOptions again;
  try {
    app::read_training_config(written, again, {});
  } catch (const std::runtime_error& e) {
    throw std::logic_error(std::string("config.json read, written back, refused: ") + e.what());
  }
  if (app::training_config(again) != written) throw std::logic_error("config.json changed on a second read");
  return 0;
}

}  // namespace radius::fuzz
