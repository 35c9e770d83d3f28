#include "data/synth_truth.h"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "data/csv.h"

namespace radius {

namespace {

// The columns, in the order they are written.
const std::vector<std::string> kColumns{"path", "split", "class", "group", "quarter_turns", "fracture",
                                        "subtle", "displaced", "swelling", "cast", "joint", "growth_plate",
                                        "nutrient_canal", "crossing_bones", "limb_angle", "fracture_x", "fracture_y"};

std::string flag_text(bool b) { return b ? "1" : "0"; }

std::string number_text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", double(v));
  return buf;
}

// One parsed row; `where` is "FILE:LINE" for the errors.
struct RowReader {
  const CsvRow& row;
  const std::map<std::string, size_t>& col;
  const std::string& where;

  const std::string& text(const std::string& name) const { return row[col.at(name)]; }
  bool flag(const std::string& name) const {
    const std::string& t = text(name);
    if (t != "0" && t != "1") throw std::runtime_error(where + ": " + name + " must be 0 or 1, got '" + t + "'");
    return t == "1";
  }
  template <typename T>
  T number(const std::string& name) const {
    const std::string& t = text(name);
    T v{};
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size())
      throw std::runtime_error(where + ": " + name + " is not a number: '" + t + "'");
    return v;
  }
  FractureKind fracture() const {
    const std::string& t = text("fracture");
    for (FractureKind k : {FractureKind::none, FractureKind::transverse, FractureKind::oblique, FractureKind::comminuted})
      if (t == fracture_kind_name(k)) return k;
    throw std::runtime_error(where + ": unknown fracture '" + t + "' (none, transverse, oblique, comminuted)");
  }
};

}  // namespace

const char* fracture_kind_name(FractureKind k) {
  switch (k) {
    case FractureKind::transverse: return "transverse";
    case FractureKind::oblique: return "oblique";
    case FractureKind::comminuted: return "comminuted";
    case FractureKind::none: break;
  }
  return "none";
}

void write_synth_truth_csv(const std::string& dir, const std::vector<SynthFile>& files) {
  std::vector<CsvRow> rows{kColumns};
  for (const SynthFile& f : files) {
    const SynthInfo& d = f.drawn;
    rows.push_back({std::filesystem::relative(f.path, dir).generic_string(), f.split,
                    f.fractured ? "fractured" : "not fractured", f.group, std::to_string(f.quarter_turns),
                    fracture_kind_name(d.fracture), flag_text(d.subtle), flag_text(d.displaced),
                    flag_text(d.swelling), flag_text(d.cast), flag_text(d.joint), flag_text(d.growth_plate),
                    flag_text(d.nutrient_canal), flag_text(d.crossing_bones), number_text(d.limb_angle),
                    number_text(d.fracture_x), number_text(d.fracture_y)});
  }
  write_csv((std::filesystem::path(dir) / "synth.csv").string(), rows);
}

std::vector<SynthTruth> read_synth_truth_csv(const std::string& path) {
  const std::vector<CsvRow> rows = read_csv(path);
  if (rows.empty()) throw std::runtime_error(path + ": empty file (expected a synth.csv header)");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].size(); ++i) col[rows[0][i]] = i;
  for (const std::string& name : kColumns)
    if (!col.count(name)) throw std::runtime_error(path + ":1: no '" + name + "' column (not a synth.csv?)");
  std::vector<SynthTruth> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() == 1 && rows[r][0].empty()) continue;  // blank line
    const std::string where = path + ":" + std::to_string(r + 1);
    if (rows[r].size() != rows[0].size())
      throw std::runtime_error(where + ": " + std::to_string(rows[r].size()) + " fields, the header has " +
                               std::to_string(rows[0].size()));
    const RowReader in{rows[r], col, where};
    SynthTruth t;
    t.path = in.text("path");
    t.split = in.text("split");
    t.group = in.text("group");
    const std::string& cls = in.text("class");
    if (cls != "fractured" && cls != "not fractured")
      throw std::runtime_error(where + ": class must be 'fractured' or 'not fractured', got '" + cls + "'");
    t.fractured = cls == "fractured";
    t.quarter_turns = in.number<int>("quarter_turns");
    SynthInfo& d = t.drawn;
    d.fracture = in.fracture();
    if ((d.fracture != FractureKind::none) != t.fractured)
      throw std::runtime_error(where + ": class '" + cls + "' with fracture '" + in.text("fracture") + "'");
    d.subtle = in.flag("subtle");
    d.displaced = in.flag("displaced");
    d.swelling = in.flag("swelling");
    d.cast = in.flag("cast");
    d.joint = in.flag("joint");
    d.growth_plate = in.flag("growth_plate");
    d.nutrient_canal = in.flag("nutrient_canal");
    d.crossing_bones = in.flag("crossing_bones");
    d.limb_angle = in.number<float>("limb_angle");
    d.fracture_x = in.number<float>("fracture_x");
    d.fracture_y = in.number<float>("fracture_y");
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace radius
