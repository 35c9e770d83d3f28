// radius augment IMAGE: a contact sheet of the paper's augmentation applied to
// one image (first tile: the image as loaded), to check the warp by eye.
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "apps/training.h"
#include "data/augment.h"
#include "data/decode.h"
#include "data/resize.h"

namespace radius::app {

namespace {
struct AugmentOptions {
  std::string image, out = "augment_grid.png";
  int tiles = 16, size = 150;
  uint64_t seed = 1;
  TrainingOptions recipe;  // the warp: train's --rotation --shift --shear --zoom --no-flip
  bool gray = false;
};
}  // namespace

void add_augment_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("augment", "Write a PNG grid of augmented versions of one image (Keras semantics)");
  auto o = std::make_shared<AugmentOptions>();
  cmd->add_option("image", o->image, "A PNG or JPEG file")->required();
  add_shared_flag(*cmd, "--out", o->out, "Output PNG")->capture_default_str();
  add_number(*cmd, "-n,--tiles", o->tiles, "Tiles in the grid", closed(1, 256));
  add_number(*cmd, "--size", o->size, "Resize (nearest, as Keras) to SIZE x SIZE first", closed(8, 2048));
  add_shared_flag(*cmd, "--seed", o->seed);
  for (const char* flag : {"--rotation", "--shift", "--shear", "--zoom", "--no-flip"})
    add_training_option(*cmd, o->recipe, flag);
  cmd->add_flag("--gray", o->gray, "Load as one gray channel");
  cmd->callback([o] {
    const Image img = resize(decode_image(o->image, o->gray ? ColorMode::gray : ColorMode::rgb), o->size, o->size,
                             Interpolation::nearest);
    AugmentConfig cfg = augment_config(o->recipe);
    cfg.rescale = 1.0f;  // keep 0..255 for the picture
    write_augment_grid(img.pixels.data(), img.height, img.width, img.channels, cfg, o->tiles, o->seed, o->out);
    std::printf("wrote %s: %d tiles of %dx%d (first: no augmentation)\n", o->out.c_str(), o->tiles, o->size, o->size);
  });
}

}  // namespace radius::app
