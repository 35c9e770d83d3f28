// A custom CNN, written in code, trained on a folder of images with Radius as a library.
//   train_folder DATA OUT [EPOCHS]
// DATA: one sub-folder per class (Keras' layout). A group-aware stratified fifth of the
// images validates; OUT receives the weights, the spec and the history (a run folder
// that `radius predict` and examples/predict_folder read).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <radius/radius.h>

using namespace radius;

// One line per epoch: fit() calls this as training goes.
struct PrintEpochs : FitObserver {
  void on_epoch_end(const HistoryRow& r, bool improved, int) override {
    std::printf("epoch %d: loss %.4f acc %.3f | val loss %.4f acc %.3f%s\n", r.epoch, r.train_loss,
                r.train_accuracy, r.val_loss, r.val_accuracy, improved ? " *" : "");
  }
};

int main(int argc, char** argv) try {
  if (argc < 3) return std::fprintf(stderr, "usage: %s DATA OUT [EPOCHS]\n", argv[0]), 2;
  const std::string out = argv[2];
  // The model, as a spec (the same text a .spec file holds; layers can also be added in
  // code: model->add(std::make_unique<Conv2D>(16, 3, 3))).
  const std::string spec = "input height=64 width=64 channels=1\n"
                           "conv2d filters=8 kernel=3 activation=relu\nmaxpool2d pool=2\n"
                           "conv2d filters=16 kernel=3 activation=relu\nmaxpool2d pool=2\n"
                           "flatten\ndense units=32 activation=relu\ndense units=1 activation=sigmoid\n";
  std::unique_ptr<Sequential> model = parse_model_spec(spec, "train_folder");
  model->init(/*seed=*/1);
  std::printf("%s", model->summary().c_str());

  const Dataset data = list_dataset(argv[1]);  // class folders (or a CSV manifest)
  const ImageCache cache(data, cache_options_for(*model, 0));
  std::vector<int> labels;
  std::vector<std::string> groups;  // rotated copies of one X-ray stay on one side
  for (int64_t k = 0; k < cache.size(); ++k) {
    labels.push_back(cache.label(k));
    groups.push_back(data.samples[cache.sample_index(k)].group);
  }
  const std::vector<int> bin = assign_bins(labels, groups, {0.8, 0.2}, /*seed=*/1);
  std::vector<size_t> train, val;
  for (size_t k = 0; k < bin.size(); ++k) (bin[k] == 0 ? train : val).push_back(k);

  LoaderOptions augmented{.augment = AugmentConfig::paper(), .seed = 1}, plain{.shuffle = false};
  Loader train_loader(cache, train, augmented), val_loader(cache, val, plain);
  LoaderBatches train_batches(train_loader), val_batches(val_loader);
  Adam adam(AdamConfig::keras(1e-3f));
  PrintEpochs printer;
  const FitResult r = fit(*model, adam, train_batches, &val_batches,
                          {.max_epochs = argc > 3 ? std::atoi(argv[3]) : 5, .restore_best = true}, &printer);

  std::filesystem::create_directories(out);
  save_weights(*model, out + "/weights.safetensors");
  std::ofstream(out + "/model.spec") << spec;
  std::ofstream(out + "/config.json") << "{\"model\": \"model.spec\"}\n";
  write_history_csv(out + "/history.csv", r.history);
  std::printf("best epoch %d (val loss %.4f); wrote %s/\n", r.best_epoch, r.best_val_loss, out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_folder: %s\n", e.what());
  return 1;
}
