// DIR/synth.csv: what `radius synth` drew in each image of a synthetic data set, the
// ground truth for error analysis (eval/synth_breakdown.h). One row per file:
//
//   path,split,class,group,quarter_turns,fracture,subtle,displaced,swelling,cast,joint,
//   growth_plate,nutrient_canal,crossing_bones,limb_angle,fracture_x,fracture_y
//
// path is relative to DIR, as in a run's predictions.csv; class is the folder name
// ("fractured" / "not fractured"); fracture is none, transverse, oblique or comminuted;
// the flags are 0/1; angle and position are the base image's (data/synth.h, SynthInfo),
// before the copy's quarter turns. The image files themselves carry none of this.
#pragma once
#include <string>
#include <vector>

#include "data/synth.h"
#include "data/synth_dataset.h"

namespace radius {

struct SynthTruth {
  std::string path;  // relative to the data set folder
  std::string split, group;
  bool fractured = false;
  int quarter_turns = 0;
  SynthInfo drawn;
};

const char* fracture_kind_name(FractureKind k);

// Writes DIR/synth.csv (atomically) for the files write_synthetic_dataset wrote under DIR.
void write_synth_truth_csv(const std::string& dir, const std::vector<SynthFile>& files);

// Reads a synth.csv. Columns are found by name (extra ones are ignored); throws
// std::runtime_error "FILE:LINE: what is wrong" on a missing column or a bad value.
std::vector<SynthTruth> read_synth_truth_csv(const std::string& path);

}  // namespace radius
