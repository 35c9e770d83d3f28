// A dataset audit: what a researcher should know before trusting any accuracy on it.
//
// audit_dataset reads and decodes every listed file once (OpenMP over files), then reports:
//  - counts per class and split, and the files that cannot be decoded, with the reason;
//  - exact duplicates: files with the same bytes (FNV-1a 64 of the content, then confirmed
//    byte by byte), within a split, across splits, and across classes: the same bytes
//    labelled two ways is a labelling error;
//  - near-duplicates: DCT perceptual hashes (data/phash.h) within a Hamming threshold,
//    confirmed by the correlation of fine detail, optionally up to rotation by quarter turns
//    and mirroring (the Kaggle fracture set is rotated copies of ~190 radiographs); pairs
//    across splits leak test images into training, pairs across classes are possible
//    labelling errors, and pairs whose group keys differ escape a group-aware split;
//  - group leakage: a group key (data/dataset.h; by default the name before "-rotated") on
//    more than one split, or on more than one class;
//  - confounders: class vs file format (by magic bytes), colour mode and bit depth (from
//    the file header), image size and mean grey level (exposure) (data/confound.h); for
//    DICOM files also manufacturer, modality, body part, photometric interpretation, bits
//    stored and pixel spacing (data/dicom.h).
// The audit changes nothing; it is a report.
//
// Cost: one read and one decode per file, which dominates; then a brute-force popcount
// scan, n^2 / 2 pairs x 8 symmetries, plus one 1,024-term dot product per hash-close
// candidate. Measured on 2 cores with synthetic 180-320 px images (60 % JPEG): 2,000 files
// in 1.5 s (search 0.06 s); 10,000 files in 9.5 s (search 1.5 s, 0.7 M candidates).
// Memory: a 4 KB signature per file during the search.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/confound.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "data/dicom.h"
#include "data/phash.h"

namespace radius {

// The near-duplicate thresholds, from the distributions measured on synthetic radiographs
// (data/phash.h; tests/test_audit.cpp re-measures them on a smaller set). Candidates: hash
// distance <= 12 of 63 bits (copies reached 10, so 12 keeps a step of margin; a looser
// bound only costs more dot products). Confirmed: detail correlation >= 0.99, between the
// highest seen for distinct images (0.981 among 10,000) and the lowest for ordinary edited
// copies (0.995: JPEG quality 30, resizing by 0.75-1.1, quarter turns). A nearest-neighbour
// halving (0.984) needs --min-similarity 0.98, at the price of false pairs in large, uniform
// sets. Our synthetic images are plainer than real radiographs, so real distinct images
// should sit farther apart; read the near-duplicate list before believing it.
inline constexpr int kDefaultNearThreshold = 12;
inline constexpr float kDefaultMinSimilarity = 0.99f;

struct AuditOptions {
  int near_threshold = kDefaultNearThreshold;
  float min_similarity = kDefaultMinSimilarity;  // -1: trust the hash alone
  bool symmetries = true;  // near-duplicates up to quarter turns and mirrors (8x the compare cost)
  int threads = 0;         // <= 0: every core
  size_t max_pairs = 2'000'000;  // near-duplicate pairs kept (the JSON lists them all up to this)
};

// What one file is, as far as the audit could tell.
struct AuditFile {
  bool read = false;      // the bytes were read (a zero-byte file counts as read)
  bool decoded = false;   // decode_image succeeded
  DecodeFailure failure = DecodeFailure::corrupt;  // when !decoded
  std::string error;      // the DecodeError's what()
  ImageFormat format = ImageFormat::unknown;  // by magic bytes
  std::string color;      // from the header: gray, gray+alpha, rgb, rgba, palette, cmyk ("" unknown)
  int bit_depth = 0;      // bits per sample from the header (0 unknown; DICOM: Bits Stored)
  bool has_dicom_tags = false;  // a DICOM file whose header was read
  DicomTags dicom;              // then: the confounder fields (manufacturer, modality, ...)
  int width = 0, height = 0;
  uint64_t bytes = 0;
  uint64_t content_hash = 0;  // FNV-1a 64 of the bytes
  double mean_grey = 0;       // mean luma 0..255 of the decoded image
  PhashSet phash;             // valid when decoded
};

// Files with identical bytes.
struct DuplicateSet {
  std::vector<size_t> members;  // sample indices, in listing order
  bool cross_split = false;     // members sit in more than one split
  bool cross_class = false;     // members carry more than one label: a labelling error
};

struct NearPair {
  size_t a = 0, b = 0;  // sample indices, a < b
  int distance = 0;       // hash Hamming distance
  float similarity = 0;   // detail correlation
  Symmetry symmetry = Symmetry::identity;  // turns b into a
  bool cross_split = false, cross_class = false, cross_group = false;
};

struct GroupFinding {
  std::string group;
  std::vector<size_t> members;
  std::vector<std::string> splits;  // distinct, in listing order ("" = no split)
  std::vector<int> labels;          // distinct, sorted
  // Some exact or near-duplicate pair inside the group confirms the problem in pixels
  // (for leakage: a pair across splits; for mixed labels: a pair across classes).
  bool confirmed = false;
};

struct SizeStats {
  int64_t n = 0;
  double mean_width = 0, mean_height = 0, median_width = 0, median_height = 0;
  int min_width = 0, max_width = 0, min_height = 0, max_height = 0;
};

struct AuditReport {
  Dataset dataset;
  AuditOptions options;
  std::vector<AuditFile> files;  // parallel to dataset.samples
  std::vector<std::string> splits;  // distinct splits in listing order

  std::vector<size_t> unreadable;  // sample indices that failed to decode
  std::vector<DuplicateSet> exact_duplicates;
  std::vector<NearPair> near_pairs;  // exact duplicates excluded
  bool near_truncated = false;
  uint64_t near_candidates = 0;  // hash-close pairs checked by detail (confirmed or not)
  std::vector<std::vector<size_t>> near_clusters;  // connected components (exact + near), size > 1
  int64_t distinct_images = 0;  // decoded files after merging every cluster into one image
  std::vector<GroupFinding> group_leaks;   // a group key in more than one split
  std::vector<GroupFinding> mixed_groups;  // a group key with more than one label

  std::vector<Association> associations;  // format, colour mode, bit depth
  std::vector<Stump> stumps;              // pixels, width, height, aspect ratio, mean grey
  std::vector<SizeStats> size_by_class;

  std::vector<std::string> warnings;  // one line per problem, most serious first
  double seconds_decode = 0, seconds_near = 0, seconds_total = 0;
};

// The audit of a listed dataset. Never throws for a bad file (that is a finding).
AuditReport audit_dataset(const Dataset& dataset, const AuditOptions& options = {});

// FNV-1a 64 of bytes.
uint64_t fnv1a64(const uint8_t* data, size_t size, uint64_t h = 0xcbf29ce484222325ull);

// Colour mode and bits per sample from a PNG IHDR or a JPEG SOF header, without decoding.
// Returns false when the header cannot be found.
bool read_color_header(const std::vector<uint8_t>& bytes, std::string* color, int* bit_depth);

// A readable report: sections, counts, the worst offenders by path, lists capped at
// max_list entries ("... and N more").
std::string format_audit_text(const AuditReport& report, size_t max_list = 10);

// Everything, for tools: the files, every finding in full, the statistics and warnings.
nlohmann::json audit_to_json(const AuditReport& report);

}  // namespace radius
