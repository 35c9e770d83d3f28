// A layer defined outside Radius and used in a spec, with Radius as a library.
//   custom_layer
// LeakyReLU (y = x for x > 0, alpha * x otherwise) follows the layer contract
// (layers/layer.h): backward OVERWRITES dx; it has no parameters, so nothing to
// accumulate. register_layer_kind() makes "leaky_relu alpha=0.1" a spec line. The
// model then trains on a toy problem (is the bright square on the left or the right?).
#include <cstdio>
#include <radius/radius.h>

using namespace radius;

class LeakyReLU final : public Layer {
 public:
  explicit LeakyReLU(float alpha) : alpha_(alpha) {}
  std::string kind() const override { return "leaky_relu"; }  // its spec keyword
  std::string describe() const override { return "leaky_relu alpha=" + std::to_string(alpha_); }
  Shape build(const Shape& in) override { return in; }
  void forward(const Tensor& x, Tensor& y, Mode) override {
    const float* in = x.cpu();  // CPU only: cpu() throws for a tensor on the GPU
    float* out = y.cpu();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = in[i] > 0 ? in[i] : alpha_ * in[i];
  }
  void backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) override {
    if (!dx.defined()) return;  // the first layer's input needs no gradient
    for (int64_t i = 0; i < x.numel(); ++i) dx.cpu()[i] = x.cpu()[i] > 0 ? dy.cpu()[i] : alpha_ * dy.cpu()[i];
  }
  int64_t flops(const Shape& in) const override { return in.numel(); }

 private:
  float alpha_;
};

int main() try {
  register_layer_kind({.keyword = "leaky_relu",
                       .keys = {"alpha"},
                       .make = [](const SpecLine& line, const Shape&, int64_t) {
                         return std::make_unique<LeakyReLU>(float(line.number("alpha", 0.0, 1.0, 0.01)));
                       }});
  std::unique_ptr<Sequential> model = parse_model_spec(
      "input height=8 width=8 channels=1\n"
      "conv2d filters=4 kernel=3\nleaky_relu alpha=0.1\nmaxpool2d pool=2\n"
      "flatten\ndense units=1 activation=sigmoid\n",
      "custom_layer");
  model->init(/*seed=*/7);
  std::printf("%s", model->summary().c_str());

  // Toy data: a bright 3x3 square on the left (label 0) or the right (label 1) half.
  std::vector<MemoryBatches::Item> batches;
  for (int b = 0; b < 8; ++b) {
    Tensor x = Tensor::full({16, 1, 8, 8}, 0.1f), y = Tensor::zeros({16});
    for (int i = 0; i < 16; ++i) {
      const int label = (b + i) % 2, col = label ? 4 + (i % 2) : i % 2, row = (b * 3 + i) % 6;
      for (int r = row; r < row + 3; ++r)
        for (int c = col; c < col + 3; ++c) x.cpu()[(i * 8 + r) * 8 + c] = 0.9f;
      y.cpu()[i] = float(label);
    }
    batches.push_back({x, y});
  }
  MemoryBatches data(batches);
  Adam adam(AdamConfig::keras(1e-2f));
  const FitResult r = fit(*model, adam, data, nullptr, {.max_epochs = 30});
  std::printf("loss %.4f after epoch 1, %.4f after epoch %d; accuracy %.3f\n", r.history.front().train_loss,
              r.history.back().train_loss, r.history.back().epoch, r.history.back().train_accuracy);
  return r.history.back().train_accuracy > 0.9 ? 0 : 1;  // the check CI runs: it learned
} catch (const std::exception& e) {
  std::fprintf(stderr, "custom_layer: %s\n", e.what());
  return 1;
}
