// radius demo: train a model spec (the paper's by default) on generated images
// (bright bar vs none) for a few steps, evaluate it on held-out images, and save
// and reload its weights. A smoke test of the whole core, and a first look at
// per-step cost, until the fracture pipeline arrives.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "apps/commands.h"
#include "apps/common_flags.h"
#include "data/bars.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "tensor/parallel.h"

namespace radius::app {

namespace {

struct DemoOptions {
  std::string spec = default_model_path();
  std::string out = "runs/demo";
  int steps = 30, batch = 32, eval_images = 128, threads = 0;
  // Below the paper's 1e-3: on this toy, Adam at 1e-3 sometimes overshoots into
  // a constant output for a few steps (the recipe's fragility that
  // shared/notes/data-and-paper.md describes), a bad look for a 30-step demo.
  float lr = 3e-4f;
  uint64_t seed = 1;
};

ToyBatch bars_for(const Sequential& m, int64_t n, uint64_t seed, int64_t first) {
  const Shape& in = m.input_shape();
  return make_bar_images(n, in[0], in[1], in[2], seed, first);
}

double evaluate_accuracy(Sequential& m, Trainer& t, const DemoOptions& o, double* loss) {
  const ToyBatch held_out = bars_for(m, o.eval_images, o.seed + 1, 0);  // another seed: unseen images
  int64_t correct = 0;
  double loss_sum = 0;
  for (int64_t b = 0; b < o.eval_images; b += o.batch) {
    const int64_t e = std::min<int64_t>(b + o.batch, o.eval_images);
    const StepResult r = t.evaluate(held_out.images.batch(b, e), held_out.labels.batch(b, e));
    correct += r.correct;
    loss_sum += r.loss * double(e - b);
  }
  *loss = loss_sum / o.eval_images;
  return double(correct) / o.eval_images;
}

void run_demo(const DemoOptions& o) {
  set_num_threads(o.threads);
  auto model = load_model_spec(o.spec);
  model->init(o.seed);
  std::printf("model: %s\n%s\n", o.spec.c_str(), model->summary().c_str());
  Adam adam(AdamConfig::keras(o.lr));
  Trainer trainer(*model, adam);
  std::printf("training on generated images (label 1 = bright bar), batch %d, %s, %d threads\n", o.batch,
              adam.describe().c_str(), num_threads());

  using clock = std::chrono::steady_clock;
  double seconds = 0;
  for (int step = 1; step <= o.steps; ++step) {
    const ToyBatch b = bars_for(*model, o.batch, o.seed, int64_t(step) * o.batch);  // fresh images every step
    const auto t0 = clock::now();
    const StepResult r = trainer.step(b.images, b.labels);
    seconds += std::chrono::duration<double>(clock::now() - t0).count();
    if (step == 1 || step % 5 == 0 || step == o.steps)
      std::printf("step %4d/%d  loss %.4f  acc %.3f  %6.0f ms/step  %5.1f img/s\n", step, o.steps, r.loss,
                  double(r.correct) / o.batch, 1e3 * seconds / step, step * o.batch / seconds);
  }
  double loss = 0;
  const double acc = evaluate_accuracy(*model, trainer, o, &loss);
  std::printf("held-out: %d images, loss %.4f, accuracy %.3f\n", o.eval_images, loss, acc);

  std::filesystem::create_directories(o.out);
  const std::string path = o.out + "/weights.safetensors";
  save_weights(*model, path, {{"spec", o.spec}, {"seed", std::to_string(o.seed)}});
  auto reloaded = load_model_spec(o.spec);
  reloaded->init(o.seed + 12345);
  load_weights(*reloaded, path);
  const bool same = reloaded->params().to_vector() == model->params().to_vector();
  std::printf("saved %s (%lld parameters); reload %s\n", path.c_str(), (long long)model->num_params(),
              same ? "bit-exact" : "MISMATCH");
  if (!same) throw std::runtime_error("weights did not survive a save/load round trip");
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Train a model on generated bar images for a few steps, then evaluate and save it");
  auto o = std::make_shared<DemoOptions>();
  add_shared_flag(*cmd, "--model", o->spec, "Model spec file")->capture_default_str();
  add_number(*cmd, "--steps", o->steps, "Training steps", positive());
  add_shared_flag(*cmd, "--batch", o->batch);
  add_number(*cmd, "--lr", o->lr, "Learning rate", positive());  // Adam in Keras' form, as train's default
  add_shared_flag(*cmd, "--seed", o->seed);
  add_shared_flag(*cmd, "--threads", o->threads);
  add_shared_flag(*cmd, "--out", o->out, "Output directory for the weights")->capture_default_str();
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace radius::app
