// synth.csv (data/synth_truth.h) and the breakdown of predictions by what each image
// shows (eval/synth_breakdown.h): the file round-trips, bad files are named errors, the
// counts are right on a hand-made set, and the report carries them.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "data/synth_dataset.h"
#include "data/synth_truth.h"
#include "eval/report.h"
#include "eval/synth_breakdown.h"
#include "temp_dir.h"

using namespace radius;
using radius::test::TempDir;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

SynthTruth truth(const std::string& path, bool fractured, SynthInfo d) {
  if (fractured && d.fracture == FractureKind::none) d.fracture = FractureKind::transverse;
  return SynthTruth{path, "test", path, fractured, 0, d};
}

const BreakdownRow& row(const std::vector<BreakdownRow>& rows, bool fractured, const std::string& kind) {
  for (const BreakdownRow& r : rows)
    if (r.fractured == fractured && r.kind == kind) return r;
  FAIL("no row '" << kind << "'");
  return rows.front();
}

}  // namespace

TEST_CASE("synth truth: synth.csv round-trips what the generator drew") {
  TempDir dir("synth_truth");
  SynthDatasetOptions opt;
  opt.render.min_side = 40;
  opt.render.max_side = 56;
  opt.render.model_side = 32;
  const std::string root = dir.file("data");
  const std::vector<SynthFile> files = write_synthetic_dataset(root, {16, 4, 4}, 7, opt);
  write_synth_truth_csv(root, files);
  const std::vector<SynthTruth> back = read_synth_truth_csv(root + "/synth.csv");
  REQUIRE(back.size() == files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    const SynthFile& f = files[i];
    const SynthTruth& t = back[i];
    CAPTURE(f.path);
    CHECK(root + "/" + t.path == f.path);  // relative to the data set, as predictions.csv
    CHECK(t.split == f.split);
    CHECK(t.group == f.group);
    CHECK(t.fractured == f.fractured);
    CHECK(t.quarter_turns == f.quarter_turns);
    CHECK(t.drawn.fracture == f.drawn.fracture);
    CHECK(t.drawn.subtle == f.drawn.subtle);
    CHECK(t.drawn.displaced == f.drawn.displaced);
    CHECK(t.drawn.swelling == f.drawn.swelling);
    CHECK(t.drawn.cast == f.drawn.cast);
    CHECK(t.drawn.joint == f.drawn.joint);
    CHECK(t.drawn.growth_plate == f.drawn.growth_plate);
    CHECK(t.drawn.nutrient_canal == f.drawn.nutrient_canal);
    CHECK(t.drawn.crossing_bones == f.drawn.crossing_bones);
    CHECK(t.drawn.limb_angle == doctest::Approx(f.drawn.limb_angle).epsilon(0.01));  // written to 0.1
    CHECK(t.drawn.fracture_x == doctest::Approx(f.drawn.fracture_x).epsilon(0.01));
  }
}

TEST_CASE("synth truth: a bad synth.csv is an error naming the file and line") {
  TempDir dir("synth_truth_bad");
  const std::string header =
      "path,split,class,group,quarter_turns,fracture,subtle,displaced,swelling,cast,joint,growth_plate,"
      "nutrient_canal,crossing_bones,limb_angle,fracture_x,fracture_y\n";
  const std::string good = "test/fractured/a.png,test,fractured,a,0,oblique,0,1,1,0,0,0,0,0,12.5,70.0,80.0\n";
  const std::string p = dir.file("synth.csv");
  auto error_of = [&](const std::string& text) -> std::string {
    write_text(p, text);
    try {
      read_synth_truth_csv(p);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  write_text(p, header + good);
  CHECK(read_synth_truth_csv(p).size() == 1);
  CHECK(error_of("path,label\nx.png,0\n").find(p + ":1: no 'split' column") != std::string::npos);
  CHECK(error_of(header + good + "test/fractured/b.png,test,fractured,b,0,oblique,2,1,1,0,0,0,0,0,1,1,1\n")
            .find(p + ":3: subtle must be 0 or 1, got '2'") != std::string::npos);
  CHECK(error_of(header + "test/fractured/b.png,test,fractured,b,0,spiral,0,1,1,0,0,0,0,0,1,1,1\n")
            .find(p + ":2: unknown fracture 'spiral'") != std::string::npos);
  CHECK(error_of(header + "t/b.png,test,not fractured,b,0,oblique,0,1,1,0,0,0,0,0,1,1,1\n")
            .find(p + ":2: class 'not fractured' with fracture 'oblique'") != std::string::npos);
  CHECK(error_of(header + "t/b.png,test,fractured,b,x,oblique,0,1,1,0,0,0,0,0,1,1,1\n")
            .find(p + ":2: quarter_turns is not a number: 'x'") != std::string::npos);
  CHECK(error_of(header + "t/b.png,test,fractured\n").find(p + ":2: 3 fields, the header has 17") != std::string::npos);
}

TEST_CASE("synth breakdown: counts per kind of image, at the decision threshold") {
  SynthInfo cast, swelling, plain, hairline, joint, crossing, none;
  cast.cast = true;
  swelling.swelling = swelling.displaced = true;
  plain.displaced = true;  // neither cast nor swelling: only the line shows
  hairline.subtle = true;
  joint.joint = joint.growth_plate = true;
  crossing.crossing_bones = true;
  const std::vector<SynthTruth> t{truth("f1", true, cast),     truth("f2", true, swelling), truth("f3", true, plain),
                                  truth("f4", true, hairline), truth("n1", false, joint),   truth("n2", false, crossing),
                                  truth("n3", false, none)};
  // score = P(not fractured); called fractured iff score <= 0.5 (0.5 itself: fractured).
  const std::vector<Prediction> p{{"f1", 0, 0.1}, {"f2", 0, 0.5}, {"f3", 0, 0.9}, {"f4", 0, 0.7},
                                  {"n1", 1, 0.2}, {"n2", 1, 0.8}, {"n3", 1, 0.95}};
  const std::vector<BreakdownRow> rows = synth_breakdown(t, p, 0.5);
  CHECK(row(rows, true, "all fractured").images == 4);
  CHECK(row(rows, true, "all fractured").right == 2);
  CHECK(row(rows, true, "in a cast").right == 1);
  CHECK(row(rows, true, "with swelling").right == 1);
  CHECK(row(rows, true, "no cast, no swelling").images == 2);  // f3, f4
  CHECK(row(rows, true, "no cast, no swelling").right == 0);
  CHECK(row(rows, true, "subtle hairline").rate() == 0.0);
  CHECK(row(rows, true, "not subtle, displaced").images == 2);  // f2, f3
  CHECK(row(rows, true, "not subtle, displaced").rate() == doctest::Approx(0.5));
  CHECK(row(rows, false, "all intact").right == 2);
  CHECK(row(rows, false, "joint in view").right == 0);
  CHECK(row(rows, false, "open growth plate").images == 1);
  CHECK(row(rows, false, "crossing limb").right == 1);
  CHECK(row(rows, false, "none of these").right == 1);
  for (const BreakdownRow& r : rows) CHECK(r.images > 0);  // empty kinds are left out (no comminuted here)
  // Another data set's predictions, or labels that disagree, are refused.
  CHECK_THROWS_WITH_AS(synth_breakdown(t, {{"elsewhere.png", 0, 0.3}}, 0.5),
                       doctest::Contains("'elsewhere.png' is not in synth.csv"), std::runtime_error);
  CHECK_THROWS_WITH_AS(synth_breakdown(t, {{"f1", 1, 0.3}}, 0.5), doctest::Contains("disagrees with synth.csv"),
                       std::runtime_error);
  // The console table names every row.
  const std::string table = breakdown_table(rows);
  for (const char* s : {"fractured images", "intact images", "no cast, no swelling", "crossing limb"})
    CHECK(table.find(s) != std::string::npos);
}

TEST_CASE("synth breakdown: the report shows it and metrics.json carries it") {
  ReportData r;
  r.breakdown = {{true, "in a cast", 10, 9}, {false, "crossing limb", 4, 1}};
  const std::string html = report_html(r);
  CHECK(html.find("by what the image shows") != std::string::npos);
  CHECK(html.find("crossing limb") != std::string::npos);
  const nlohmann::json j = report_json(r);
  REQUIRE(j.at("breakdown").size() == 2);
  CHECK(j["breakdown"][0]["class"] == "fractured");
  CHECK(j["breakdown"][0]["rate"].get<double>() == doctest::Approx(0.9));
  CHECK(j["breakdown"][1]["right"] == 1);
  CHECK_FALSE(report_json(ReportData{}).contains("breakdown"));  // other data: no key
}
