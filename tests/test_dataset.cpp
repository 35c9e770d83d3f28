#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "data/csv.h"
#include "data/dataset.h"
#include "tests/temp_dir.h"

using namespace radius;
namespace fs = std::filesystem;

namespace {
void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";  // listing reads no pixels
}
void write_text(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
}  // namespace

TEST_CASE("dataset: Kaggle layout, classes sorted, the space in 'not fractured', groups from -rotated") {
  test::TempDir dir("dataset");
  touch(dir.path / "train/fractured/12-rotated1-rotated2.jpg");
  touch(dir.path / "train/fractured/12-rotated3.png");
  touch(dir.path / "train/not fractured/7.JPG");
  touch(dir.path / "train/not fractured/notes.txt");  // not an image: not listed
  touch(dir.path / "val/fractured/30.jpg");
  touch(dir.path / "val/not fractured/31.jpeg");
  const Dataset d = list_dataset(dir.path.string());
  CHECK(d.classes == std::vector<std::string>{"fractured", "not fractured"});
  CHECK(d.samples.size() == 5);
  CHECK(d.class_counts("train") == std::vector<int64_t>{2, 1});
  CHECK(d.indices("val").size() == 2);
  CHECK_FALSE(d.has_split("test"));
  CHECK(d.samples[0].group == "12");
  CHECK(d.samples[1].group == "12");
  CHECK(d.samples[2].label == 1);
  CHECK(d.samples[2].group == "7");
}

TEST_CASE("dataset: flat class folders, clear errors for missing folder, no classes, empty class, stray class") {
  test::TempDir dir("dataset");
  touch(dir.path / "flat/a/1.png");
  touch(dir.path / "flat/b/2.png");
  const Dataset flat = list_dataset((dir.path / "flat").string());
  CHECK(flat.samples.size() == 2);
  CHECK(flat.samples[0].split.empty());
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "nope").string()), doctest::Contains("no such folder"), std::runtime_error);
  fs::create_directories(dir.path / "noclasses");
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "noclasses").string()), doctest::Contains("no class folders"),
                       std::runtime_error);
  touch(dir.path / "emptyclass/a/1.png");
  fs::create_directories(dir.path / "emptyclass/b");
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "emptyclass").string()), doctest::Contains("class 'b' has no images"),
                       std::runtime_error);
  touch(dir.path / "stray/train/a/1.png");
  touch(dir.path / "stray/test/zzz/1.png");
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "stray").string()), doctest::Contains("not among the training classes"),
                       std::runtime_error);
}

TEST_CASE("dataset: CSV manifest with quoted paths, names or indices, groups and splits") {
  test::TempDir dir("manifest");
  write_text(dir.path / "m.csv",
             "path,label,group,split\n"
             "\"img/a, one.png\",not fractured,p1,train\n"
             "img/b.png,fractured,p1,train\n"
             "img/c.png,fractured,,test\n");
  const Dataset d = list_dataset((dir.path / "m.csv").string());
  CHECK(d.classes == std::vector<std::string>{"fractured", "not fractured"});
  CHECK(d.samples[0].path == (dir.path / "img/a, one.png").string());
  CHECK(d.samples[0].label == 1);
  CHECK(d.samples[1].group == "p1");
  CHECK(d.samples[2].group == "c");  // no group given: from the file name
  CHECK(d.samples[2].split == "test");

  write_text(dir.path / "bad.csv", "path,label\nx.png,0\ny.png\n");
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "bad.csv").string()), doctest::Contains("bad.csv:3: 1 fields"),
                       std::runtime_error);
  write_text(dir.path / "nohead.csv", "file,class\nx.png,0\n");
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "nohead.csv").string()), doctest::Contains("'path' and 'label'"),
                       std::runtime_error);
  write_text(dir.path / "quote.csv", "path,label\n\"x.png,0\n");
  CHECK_THROWS_WITH_AS(list_dataset((dir.path / "quote.csv").string()), doctest::Contains("malformed CSV"),
                       std::runtime_error);
}

TEST_CASE("csv: lines round-trip through the reader, quoting only when needed") {
  test::TempDir dir("csv");
  const std::vector<CsvRow> rows = {{"path", "label"}, {"not fractured/a.png", "1"}, {"a,b", "say \"hi\""}, {"", " x"}};
  write_csv(dir.file("t.csv"), rows);
  CHECK(read_csv(dir.file("t.csv")) == rows);
  CHECK(csv_line({"a", "b c"}) == "a,b c\n");
  CHECK(csv_line({"a,b"}) == "\"a,b\"\n");
}
