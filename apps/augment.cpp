// radius augment IMAGE: a contact sheet of the paper's augmentation applied to
// one image (first tile: the image as loaded), to check the warp by eye.
#include <cstdio>
#include <memory>

#include "apps/commands.h"
#include "data/augment.h"
#include "data/decode.h"
#include "data/resize.h"

namespace radius::app {

namespace {
struct AugmentOptions {
  std::string image, out = "augment_grid.png";
  int tiles = 16, size = 150;
  uint64_t seed = 1;
  AugmentConfig config = AugmentConfig::paper();
  bool gray = false;
};
}  // namespace

void add_augment_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("augment", "Write a PNG grid of augmented versions of one image (Keras semantics)");
  auto o = std::make_shared<AugmentOptions>();
  cmd->add_option("image", o->image, "A PNG or JPEG file")->required();
  cmd->add_option("--out", o->out, "Output PNG")->capture_default_str();
  cmd->add_option("-n,--tiles", o->tiles, "Tiles in the grid")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--size", o->size, "Resize (nearest, as Keras) to SIZE x SIZE first")->capture_default_str()
      ->check(CLI::Range(8, 2048));
  cmd->add_option("--seed", o->seed, "Seed for the random transforms")->capture_default_str();
  cmd->add_option("--rotation", o->config.rotation_range, "rotation_range, degrees")->capture_default_str();
  cmd->add_option("--width-shift", o->config.width_shift, "width_shift_range")->capture_default_str();
  cmd->add_option("--height-shift", o->config.height_shift, "height_shift_range")->capture_default_str();
  cmd->add_option("--shear", o->config.shear_range, "shear_range, degrees (as Keras)")->capture_default_str();
  cmd->add_option("--zoom", o->config.zoom_range, "zoom_range")->capture_default_str();
  cmd->add_flag("--gray", o->gray, "Load as one gray channel");
  cmd->callback([o] {
    const Image img = resize(decode_image(o->image, o->gray ? ColorMode::gray : ColorMode::rgb), o->size, o->size,
                             Interpolation::nearest);
    AugmentConfig cfg = o->config;
    cfg.rescale = 1.0f;  // keep 0..255 for the picture
    write_augment_grid(img.pixels.data(), img.height, img.width, img.channels, cfg, o->tiles, o->seed, o->out);
    std::printf("wrote %s: %d tiles of %dx%d (first: no augmentation)\n", o->out.c_str(), o->tiles, o->size, o->size);
  });
}

}  // namespace radius::app
