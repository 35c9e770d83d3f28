#include "eval/synth_breakdown.h"

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace radius {

namespace {

using Keep = std::function<bool(const SynthInfo&)>;

struct Kind {
  const char* name;
  Keep keep;
};

// Fractured images: by the fracture itself, then by the signs that come with it. The
// last row is the one that says whether the lines were learned: fractures with neither
// a cast nor swelling can only be found by the line.
const std::vector<Kind>& fractured_kinds() {
  static const std::vector<Kind> kinds{
      {"all fractured", [](const SynthInfo&) { return true; }},
      {"transverse", [](const SynthInfo& d) { return d.fracture == FractureKind::transverse; }},
      {"oblique", [](const SynthInfo& d) { return d.fracture == FractureKind::oblique; }},
      {"comminuted", [](const SynthInfo& d) { return d.fracture == FractureKind::comminuted; }},
      {"subtle hairline", [](const SynthInfo& d) { return d.subtle; }},
      {"not subtle, displaced", [](const SynthInfo& d) { return !d.subtle && d.displaced; }},
      {"not subtle, not displaced", [](const SynthInfo& d) { return !d.subtle && !d.displaced; }},
      {"with swelling", [](const SynthInfo& d) { return d.swelling; }},
      {"in a cast", [](const SynthInfo& d) { return d.cast; }},
      {"no cast, no swelling", [](const SynthInfo& d) { return !d.cast && !d.swelling; }},
  };
  return kinds;
}

// Intact images: by the hard negatives (and the cast), then those with none of them.
const std::vector<Kind>& intact_kinds() {
  static const std::vector<Kind> kinds{
      {"all intact", [](const SynthInfo&) { return true; }},
      {"joint in view", [](const SynthInfo& d) { return d.joint; }},
      {"open growth plate", [](const SynthInfo& d) { return d.growth_plate; }},
      {"nutrient canal", [](const SynthInfo& d) { return d.nutrient_canal; }},
      {"crossing limb", [](const SynthInfo& d) { return d.crossing_bones; }},
      {"in a cast", [](const SynthInfo& d) { return d.cast; }},
      {"none of these", [](const SynthInfo& d) {
         return !d.joint && !d.nutrient_canal && !d.crossing_bones && !d.cast;
       }},
  };
  return kinds;
}

}  // namespace

std::vector<BreakdownRow> synth_breakdown(const std::vector<SynthTruth>& truth,
                                          const std::vector<Prediction>& predictions, double threshold) {
  std::unordered_map<std::string, const SynthTruth*> by_path;
  for (const SynthTruth& t : truth) by_path[t.path] = &t;
  // (what was drawn, called fractured?) per fractured and per intact image
  std::vector<std::pair<const SynthInfo*, bool>> fractured, intact;
  for (const Prediction& p : predictions) {
    const auto it = by_path.find(p.path);
    if (it == by_path.end())
      throw std::runtime_error("'" + p.path + "' is not in synth.csv: were these predictions made on another data set?");
    const SynthTruth& t = *it->second;
    if ((p.label == 0) != t.fractured)
      throw std::runtime_error("'" + p.path + "': the prediction's label " + std::to_string(p.label) +
                               " disagrees with synth.csv (" + (t.fractured ? "fractured" : "not fractured") + ")");
    (t.fractured ? fractured : intact).emplace_back(&t.drawn, p.score <= threshold);
  }
  std::vector<BreakdownRow> rows;
  auto add = [&rows](bool is_fractured, const std::vector<Kind>& kinds,
                     const std::vector<std::pair<const SynthInfo*, bool>>& images) {
    for (const Kind& k : kinds) {
      BreakdownRow r{is_fractured, k.name};
      for (const auto& [drawn, called_fractured] : images) {
        if (!k.keep(*drawn)) continue;
        ++r.images;
        r.right += called_fractured == is_fractured;
      }
      if (r.images > 0) rows.push_back(r);
    }
  };
  add(true, fractured_kinds(), fractured);
  add(false, intact_kinds(), intact);
  return rows;
}

std::string breakdown_table(const std::vector<BreakdownRow>& rows) {
  std::string s;
  char line[128];
  for (bool fractured : {true, false}) {
    std::snprintf(line, sizeof line, "%-28s %7s %7s %6s\n", fractured ? "fractured images" : "intact images",
                  "images", fractured ? "found" : "intact", "rate");
    s += line;
    for (const BreakdownRow& r : rows) {
      if (r.fractured != fractured) continue;
      std::snprintf(line, sizeof line, "  %-26s %7lld %7lld %6.3f\n", r.kind.c_str(), (long long)r.images,
                    (long long)r.right, r.rate());
      s += line;
    }
  }
  return s;
}

void to_json(nlohmann::json& j, const BreakdownRow& r) {
  j = {{"class", r.fractured ? "fractured" : "not fractured"}, {"kind", r.kind}, {"images", r.images},
       {"right", r.right}, {"rate", r.rate()}};
}

}  // namespace radius
