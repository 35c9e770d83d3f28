// Listing a dataset: which files, which class, which split, which group.
//
// Two sources, one result:
//  - class folders, as Keras' flow_from_directory reads them: the class names
//    are the sub-folder names sorted alphabetically ("fractured" = 0,
//    "not fractured" = 1; the space is real), optionally under split folders
//    train/ val/ test/;
//  - a CSV manifest with a header: path,label[,group][,split] (paths relative
//    to the manifest's folder; label a class name or an index).
// Listing reads no pixels: decoding (and skipping bad files) comes later.
#pragma once
#include <regex>
#include <string>
#include <vector>

namespace radius {

struct Sample {
  std::string path;   // as found (root-relative paths are joined with the root)
  int label = 0;      // index into Dataset::classes
  std::string split;  // "train", "val", "test", or "" when the data has no split folders
  std::string group;  // group key: rotated copies of one X-ray share it
};

struct Dataset {
  std::string root;                  // the folder or manifest it came from
  std::vector<std::string> classes;  // index = label
  std::vector<Sample> samples;       // sorted by (split, class, file name): a stable order

  bool has_split(const std::string& split) const;
  std::vector<size_t> indices(const std::string& split) const;  // samples of one split
  std::vector<int64_t> class_counts(const std::string& split) const;
};

struct ListOptions {
  std::string group_pattern;  // regex on the file stem; empty = the Kaggle default ("-rotated")
};

// A folder (class folders, or train/val/test folders of class folders) or a
// .csv manifest. Throws std::runtime_error naming the path and the problem:
// missing folder, no class folders, a class with no images, a split with a
// class that train does not have, manifest syntax (file:line), unknown label.
Dataset list_dataset(const std::string& path, const ListOptions& options = {});

// Each class with its image count over every split: "fractured: 12, not fractured: 9".
std::string class_count_summary(const Dataset& d);
// The one-sigmoid models Radius trains tell exactly two classes apart: throws
// std::runtime_error naming the data, its classes and their counts otherwise (three
// class folders, one, or a manifest label mistyped as a third class name).
void expect_two_classes(const Dataset& d);

// File extensions Keras' flow_from_directory accepts, and DICOM's .dcm / .dicom
// (case-insensitive). Class folders also list extensionless files that are DICOM.
bool has_image_extension(const std::string& path);

}  // namespace radius
