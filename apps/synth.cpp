// radius synth: write the built-in synthetic fracture data set (Kaggle layout:
// DIR/{train,val,test}/{fractured,not fractured}/*.jpg|png) and say what was written.
// The same arguments write byte-identical files, so a seed names a data set. DIR/synth.csv
// records what was drawn in each image (data/synth_truth.h), which `radius evaluate` and
// `radius metrics --synth` use to say what a model gets right (eval/synth_breakdown.h).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "data/synth_dataset.h"
#include "data/synth_truth.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace {

struct SynthCommand {
  std::string out;
  int train = 800, val = 100, test = 100;
  int count = 0;  // > 0: split 80/10/10 instead of --train/--val/--test
  uint64_t seed = 1;
  int threads = 0;
  SynthDatasetOptions options;
};

void run_synth(SynthCommand o) {
  set_num_threads(o.threads);
  if (o.count > 0) {
    o.train = int(std::lround(0.8 * o.count));
    o.val = int(std::lround(0.1 * o.count));
    o.test = o.count - o.train - o.val;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto files = write_synthetic_dataset(o.out, {o.train, o.val, o.test}, o.seed, o.options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_synth_truth_csv(o.out, files);

  // Per split: images per class, formats, and distinct radiographs (groups).
  struct Tally {
    int fractured = 0, intact = 0, jpeg = 0, png = 0;
    std::set<std::string> groups;
  };
  std::map<std::string, Tally> by_split;
  for (const SynthFile& f : files) {
    Tally& t = by_split[f.split];
    (f.fractured ? t.fractured : t.intact) += 1;
    (f.path.ends_with(".jpg") ? t.jpeg : t.png) += 1;  // "png" counts the .dcm files of --format dicom
    t.groups.insert(f.group);
  }
  std::printf("wrote %zu images to %s in %.1f s (seed %llu, sides %d-%d px, model side %d); what each shows: "
              "synth.csv\n",
              files.size(), o.out.c_str(), seconds, (unsigned long long)o.seed, o.options.render.min_side,
              o.options.render.max_side, o.options.render.model_side);
  for (const char* split : {"train", "val", "test"}) {
    const auto it = by_split.find(split);
    if (it == by_split.end()) continue;
    const Tally& t = it->second;
    std::printf("  %-5s  %5d fractured  %5d not fractured  %5d jpeg  %5d %s  %5zu radiographs\n", split,
                t.fractured, t.intact, t.jpeg, t.png, o.options.format == SynthFormat::dicom ? "dicom" : "png",
                t.groups.size());
  }
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("synth", "Write a synthetic limb-radiograph fracture data set (Kaggle layout)");
  auto o = std::make_shared<SynthCommand>();
  add_shared_flag(*cmd, "--out", o->out, "Output directory (must not exist or be empty)")->required();
  add_number(*cmd, "--train", o->train, "Training images (rotated copies included)", non_negative());
  add_number(*cmd, "--val", o->val, "Validation images", non_negative());
  add_number(*cmd, "--test", o->test, "Test images", non_negative());
  add_number(*cmd, "--count", o->count, "Total images, split 80/10/10 (overrides --train/--val/--test)", positive());
  add_shared_flag(*cmd, "--seed", o->seed);
  add_number(*cmd, "--min-side", o->options.render.min_side, "Smallest image side in pixels", positive());
  add_number(*cmd, "--max-side", o->options.render.max_side, "Largest image side in pixels", positive());
  add_number(*cmd, "--model-side", o->options.render.model_side,
             "Input side of the model that will read it (fracture widths are set in its pixels)", positive());
  // The fractions, each in [0, 1]: what the generator draws, and how often.
  auto fraction = [cmd](const char* name, double& value, const char* help) {
    add_number(*cmd, name, value, help, closed(0, 1));
  };
  fraction("--subtle", o->options.render.subtle_fraction,
           "Fraction of fractures that are thin, low-contrast hairlines");
  add_number(*cmd, "--hairline-contrast", o->options.render.hairline_contrast,
             "How dark the hairlines are, as a multiple of their drawn depth (below 1: fainter)", closed(0, 1));
  fraction("--displaced", o->options.render.displaced_fraction,
           "Fraction of the other fractures whose distal fragment is shifted");
  fraction("--swelling", o->options.render.swelling_fraction,
           "Fraction of fractures with soft-tissue swelling around the site");
  fraction("--centred", o->options.render.centred_fraction,
           "Fraction of films centred on the site of the injury (fracture near the image centre)");
  fraction("--cast", o->options.render.cast_fraction,
           "Fraction of fractured limbs seen through a cast");
  fraction("--intact-cast", o->options.render.intact_cast_fraction,
           "Fraction of intact limbs seen through a cast or splint");
  fraction("--aligned", o->options.render.aligned_fraction,
           "Fraction of limbs within 25 degrees of an image axis (the rest at any angle)");
  fraction("--joints", o->options.render.joint_fraction,
           "Fraction of images with a joint in view (hard negative)");
  fraction("--growth-plates", o->options.render.growth_plate_fraction,
           "Fraction of joints with an open growth plate (a fracture-like band, hard negative)");
  fraction("--nutrient", o->options.render.nutrient_fraction,
           "Fraction of images with a nutrient canal in one cortex (hard negative)");
  fraction("--crossing", o->options.render.crossing_fraction,
           "Fraction of images with a second limb crossing the first (hard negative)");
  fraction("--fractured", o->options.fractured_fraction,
           "Fraction of fractured images per split");
  fraction("--jpeg", o->options.jpeg_fraction,
           "Fraction of radiographs stored as JPEG (rest PNG)");
  cmd->add_option("--format", o->options.format,
                  "File format: mixed (JPEG and PNG, the default), png16 (16-bit gray PNG) or dicom "
                  "(grey DICOM: MONOCHROME1/2, 12/16-bit, some JPEG-lossless)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, SynthFormat>{{"mixed", SynthFormat::mixed},
                                                                               {"png16", SynthFormat::png16},
                                                                               {"dicom", SynthFormat::dicom}},
                                          CLI::ignore_case));
  add_shared_flag(*cmd, "--threads", o->threads);  // the files do not depend on it
  cmd->callback([o] {
    if (o->options.render.min_side > o->options.render.max_side)
      throw CLI::ValidationError("--min-side", "must not exceed --max-side");
    run_synth(*o);
  });
}

}  // namespace radius::app
