// Inference of a saved run on a folder, with Radius as a library.
//   predict_folder RUN DATA
// RUN: a run folder (weights.safetensors + config.json naming its spec: what
// `radius train` and examples/train_folder write). DATA: class folders or a CSV manifest.
// Prints P(class 1) for every image, then the confusion matrix and the metrics.
#include <cstdio>
#include <radius/radius.h>

using namespace radius;

int main(int argc, char** argv) try {
  if (argc != 3) return std::fprintf(stderr, "usage: %s RUN DATA\n", argv[0]), 2;
  std::unique_ptr<Sequential> model = load_trained_model(argv[1]);
  const Dataset data = list_dataset(argv[2]);

  std::vector<size_t> all(data.samples.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<BadFile> bad;  // unreadable images are skipped, never fatal
  const std::vector<Prediction> predictions = predict_samples(*model, data, all, /*batch=*/32, /*threads=*/0, &bad);
  for (const BadFile& b : bad) std::printf("skipped %s\n", b.message.c_str());

  for (const Prediction& p : predictions)
    std::printf("%-40s  P(%s) = %.4f\n", p.path.c_str(), data.classes.back().c_str(), p.score);
  // Class 0 ("fractured" in the fracture data) is the positive class, as in the paper.
  const Metrics m = compute_metrics(labels_of(predictions), scores_of(predictions), /*threshold=*/0.5,
                                    /*positive=*/0, {data.classes.front(), data.classes.back()});
  std::printf("\n%s\n%s", confusion_table(m).c_str(), classification_report(m).c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "predict_folder: %s\n", e.what());
  return 1;
}
