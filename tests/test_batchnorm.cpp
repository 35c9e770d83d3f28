// BatchNorm2d (layers/batchnorm.h): gradients in double, the statistics and their
// running averages, thread-count independence, the spec keyword, the state hook
// (saved, loaded, resumed bit-exact beside dropout's counter), and CPU vs CUDA.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "kernels/formulas.h"
#include "layers/batchnorm.h"
#include "net/checkpoint.h"
#include "net/fit.h"
#include "net/safetensors.h"
#include "net/spec.h"
#include "net/train.h"
#include "optim/adam.h"
#include "tensor/parallel.h"
#include "tests/cuda_util.h"
#include "tests/temp_dir.h"

using namespace radius;
using namespace radius::test;
using Vec = std::vector<double>;

namespace {

// loss = sum r * y through statistics + normalise; analytic gradients from backward.
void check_batchnorm_gradients(int64_t n, int64_t c, int64_t hw, bool train, uint64_t seed) {
  Vec x = random_vector(size_t(n * c * hw), seed, -2.0, 3.0);
  Vec gamma = random_vector(static_cast<size_t>(c), seed + 1, 0.5, 1.5), beta = random_vector(static_cast<size_t>(c), seed + 2);
  const Vec r = random_vector(x.size(), seed + 3);
  Vec running_mean = random_vector(static_cast<size_t>(c), seed + 4), running_var = random_vector(static_cast<size_t>(c), seed + 5, 0.5, 2.0);
  Vec mean(static_cast<size_t>(c)), invstd(static_cast<size_t>(c)), y(x.size());
  auto loss = [&] {
    Vec rm = running_mean, rv = running_var;  // the update must not leak into the next evaluation
    batchnorm_statistics(n, c, hw, x.data(), train, 0.9, 1e-3, rm.data(), rv.data(), mean.data(), invstd.data());
    batchnorm_normalize(n, c, hw, x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(), y.data());
    return dot(r, y);
  };
  loss();
  Vec dx(x.size()), dgamma(static_cast<size_t>(c), 0.0), dbeta(static_cast<size_t>(c), 0.0);
  batchnorm_backward(n, c, hw, x.data(), mean.data(), invstd.data(), gamma.data(), r.data(), train, dx.data(),
                     dgamma.data(), dbeta.data());
  CHECK(max_error(dx, numeric_gradient(x, loss)) < kGradTolerance);
  CHECK(max_error(dgamma, numeric_gradient(gamma, loss)) < kGradTolerance);
  CHECK(max_error(dbeta, numeric_gradient(beta, loss)) < kGradTolerance);
}

const char* kSpec = R"(
input height=9 width=8 channels=2
conv2d filters=4 kernel=3 bias=false
batchnorm2d
relu
maxpool2d pool=2
flatten
dropout rate=0.3
dense units=1 activation=sigmoid
)";

std::unique_ptr<Sequential> bn_model(uint64_t seed = 5) {
  auto m = parse_model_spec(kSpec, "batchnorm test spec");
  m->init(seed);
  return m;
}

Tensor images(int64_t n, uint64_t seed) { return random_cpu(Shape{n, 2, 9, 8}, seed, 0.0f, 1.0f); }
Tensor labels(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float((i + int64_t(seed)) % 2);
  return Tensor::from_vector(Shape{n, 1}, v);
}

std::vector<float> all_state(const Sequential& m) {
  std::vector<float> v = m.params().to_vector();
  const std::vector<float> s = m.state().to_vector();
  v.insert(v.end(), s.begin(), s.end());
  return v;
}

}  // namespace

TEST_CASE("gradient: batchnorm2d in training mode (batch statistics), batch 3") {
  check_batchnorm_gradients(3, 2, 5, true, 11);
}
TEST_CASE("gradient: batchnorm2d in training mode, batch 1 with one pixel per channel plane of 7") {
  check_batchnorm_gradients(1, 3, 7, true, 21);
}
TEST_CASE("gradient: batchnorm2d in eval mode (running statistics)") { check_batchnorm_gradients(2, 3, 4, false, 31); }

TEST_CASE("batchnorm2d: normalises each channel, and the running averages follow Keras' update") {
  const int64_t n = 4, c = 3, hw = 10, m = n * hw;
  const std::vector<float> x = random_floats(size_t(n * c * hw), 3, -1.0f, 5.0f);
  const std::vector<float> gamma{1.0f, 2.0f, 0.5f}, beta{0.0f, -1.0f, 3.0f};
  std::vector<float> rm{0.1f, 0.2f, 0.3f}, rv{1.0f, 2.0f, 0.5f}, mean(3), invstd(3), y(x.size());
  const std::vector<float> rm0 = rm, rv0 = rv;
  batchnorm_statistics(n, c, hw, x.data(), true, 0.99f, 1e-3f, rm.data(), rv.data(), mean.data(), invstd.data());
  batchnorm_normalize(n, c, hw, x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(), y.data());
  for (int64_t k = 0; k < c; ++k) {
    double s = 0, sq = 0, ys = 0, ysq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < hw; ++p) {
        const double v = x[size_t((i * c + k) * hw + p)], w = y[size_t((i * c + k) * hw + p)];
        s += v, sq += v * v, ys += w, ysq += w * w;
      }
    const double mu = s / m, var = sq / m - mu * mu;
    CHECK(mean[size_t(k)] == doctest::Approx(mu).epsilon(1e-6));
    CHECK(invstd[size_t(k)] == doctest::Approx(1.0 / std::sqrt(var + 1e-3)).epsilon(1e-5));
    // y has the channel's beta as its mean and (almost: epsilon) gamma as its spread.
    CHECK(ys / m == doctest::Approx(beta[size_t(k)]).epsilon(1e-5));
    CHECK(std::sqrt(ysq / m - (ys / m) * (ys / m)) == doctest::Approx(gamma[size_t(k)] * std::sqrt(var / (var + 1e-3))).epsilon(1e-4));
    // Running averages: momentum 0.99, the unbiased variance (m / (m - 1)).
    CHECK(rm[size_t(k)] == doctest::Approx(0.99 * rm0[size_t(k)] + 0.01 * mu).epsilon(1e-6));
    CHECK(rv[size_t(k)] == doctest::Approx(0.99 * rv0[size_t(k)] + 0.01 * var * m / (m - 1)).epsilon(1e-6));
  }
}

TEST_CASE("batchnorm2d: forward and backward give the same bits on 1 and 2 threads") {
  const int64_t n = 8, c = 16, hw = 33 * 17;  // past the OpenMP threshold
  const std::vector<float> x = random_floats(size_t(n * c * hw), 4), dy = random_floats(size_t(n * c * hw), 5);
  const std::vector<float> gamma = random_floats(static_cast<size_t>(c), 6, 0.5f, 1.5f), beta = random_floats(static_cast<size_t>(c), 7);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<float> rm(static_cast<size_t>(c), 0.0f), rv(static_cast<size_t>(c), 1.0f), mean(static_cast<size_t>(c)), invstd(static_cast<size_t>(c)), y(x.size()),
        dx(x.size()), dg(static_cast<size_t>(c), 0.0f), db(static_cast<size_t>(c), 0.0f);
    batchnorm_statistics(n, c, hw, x.data(), true, 0.99f, 1e-3f, rm.data(), rv.data(), mean.data(), invstd.data());
    batchnorm_normalize(n, c, hw, x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(), y.data());
    batchnorm_backward(n, c, hw, x.data(), mean.data(), invstd.data(), gamma.data(), dy.data(), true, dx.data(),
                       dg.data(), db.data());
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dg.begin(), dg.end());
    y.insert(y.end(), rv.begin(), rv.end());
    return y;
  };
  const std::vector<float> one = run(1), two = run(2);
  set_num_threads(0);
  CHECK(one == two);
}

TEST_CASE("batchnorm2d: the spec keyword, its keys, the summary, and parameters apart from state") {
  auto m = bn_model();
  CHECK(m->layer(1).kind() == "batchnorm2d");
  CHECK(m->layer(1).describe() == "batchnorm2d momentum 0.99 eps 0.001");  // Keras' defaults
  CHECK(m->num_params() == 4 * 2 * 9 + 4 + 4 + 4 * 3 * 3 + 1);  // conv (no bias), gamma, beta, dense
  CHECK(m->num_buffers() == 8);
  REQUIRE(m->named_buffers().size() == 2);
  CHECK(m->named_buffers()[0].name == "1.running_mean");
  CHECK(m->named_buffers()[1].name == "1.running_var");
  CHECK(m->named_buffers()[1].value.to_vector() == std::vector<float>(4, 1.0f));
  CHECK(m->named_params()[1].name == "1.weight");
  CHECK(m->named_params()[1].value.to_vector() == std::vector<float>(4, 1.0f));  // gamma starts at 1
  CHECK(m->summary().find("batchnorm2d momentum 0.99 eps 0.001") != std::string::npos);
  auto custom = parse_model_spec("input height=4 width=4 channels=1\nbatchnorm2d momentum=0.9 epsilon=1e-5\n", "s");
  CHECK(custom->layer(0).describe() == "batchnorm2d momentum 0.9 eps 1e-05");
  CHECK_THROWS_WITH_AS(parse_model_spec("input height=4 width=4 channels=1\nbatchnorm2d momentum=1\n", "s"),
                       doctest::Contains("momentum=1 must be in [0, 1)"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_model_spec("input height=4 width=4 channels=1\nflatten\nbatchnorm2d\n", "s"),
                       doctest::Contains("needs [C, H, W] input"), std::invalid_argument);
}

TEST_CASE("batchnorm2d: trains in a model, eval uses the running statistics, optimizers never touch them") {
  auto m = bn_model();
  Adam adam;
  Trainer t(*m, adam);
  const std::vector<float> state0 = m->state().to_vector();
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    const StepResult r = t.step(images(8, 1), labels(8, 0));
    if (step == 0) first = r.loss;
    last = r.loss;
  }
  CHECK(last < first);                          // it learns the fixed batch
  CHECK(m->state().to_vector() != state0);      // training forwards moved the running statistics
  CHECK(adam.state().front().second.numel() == m->num_params());  // Adam's moments cover parameters only
  // Eval forwards are deterministic and leave the running statistics alone.
  const std::vector<float> state1 = m->state().to_vector();
  const std::vector<float> p1 = m->predict(images(5, 2)).to_vector(), p2 = m->predict(images(5, 2)).to_vector();
  CHECK(p1 == p2);
  CHECK(m->state().to_vector() == state1);
}

TEST_CASE("batchnorm2d: calibrate mode makes the running statistics the plain average of the calibrate batches in a row") {
  auto m = parse_model_spec("input height=5 width=4 channels=3\nbatchnorm2d momentum=0.9\n", "calibrate");
  m->init(1);
  const int64_t n = 4, c = 3, hw = 20;
  const auto batch = [&](uint64_t seed) { return random_cpu(Shape{n, c, 5, 4}, seed, -1.0f, 3.0f); };
  // A channel's batch mean and unbiased variance, as the running statistics take them.
  const auto stats = [&](const Tensor& x, int64_t k) {
    const std::vector<float> v = x.to_vector();
    double s = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < hw; ++p) s += v[size_t((i * c + k) * hw + p)], sq += double(v[size_t((i * c + k) * hw + p)]) * v[size_t((i * c + k) * hw + p)];
    const double mu = s / double(n * hw);
    return std::pair{mu, (sq / double(n * hw) - mu * mu) * double(n * hw) / double(n * hw - 1)};
  };
  const Tensor a = batch(1), b = batch(2), d = batch(3), e = batch(4);
  m->forward(a, Mode::train);  // running statistics with a memory of their own ...
  m->forward(b, Mode::calibrate);
  m->forward(d, Mode::calibrate);
  m->forward(e, Mode::calibrate);  // ... replaced by the average of b, d, e
  const std::vector<float> running = m->state().to_vector();  // [mean c, var c]
  for (int64_t k = 0; k < c; ++k) {
    const auto [mb, vb] = stats(b, k);
    const auto [md, vd] = stats(d, k);
    const auto [me, ve] = stats(e, k);
    CHECK(running[size_t(k)] == doctest::Approx((mb + md + me) / 3).epsilon(1e-5));
    CHECK(running[size_t(c + k)] == doctest::Approx((vb + vd + ve) / 3).epsilon(1e-5));
  }
  // Calibrate normalises by the batch's statistics, as train does (the outputs are equal).
  auto twin = parse_model_spec("input height=5 width=4 channels=3\nbatchnorm2d momentum=0.9\n", "calibrate");
  twin->init(1);
  CHECK(twin->forward(b, Mode::train).to_vector() == m->forward(b, Mode::calibrate).to_vector());
  // Another forward ends the run: the next calibrate batch starts the average afresh.
  m->predict(a);
  m->forward(d, Mode::calibrate);
  const std::vector<float> fresh = m->state().to_vector();
  for (int64_t k = 0; k < c; ++k) {
    CHECK(fresh[size_t(k)] == doctest::Approx(stats(d, k).first).epsilon(1e-6));
    CHECK(fresh[size_t(c + k)] == doctest::Approx(stats(d, k).second).epsilon(1e-5));
  }
}

TEST_CASE("fit: batch-norm recalibration re-estimates the statistics before validation and leaves the training alone") {
  const auto run = [](bool recalibrate) {
    auto m = bn_model();
    Adam adam;
    std::vector<MemoryBatches::Item> train_items, calibration_items;
    for (uint64_t i = 0; i < 3; ++i) train_items.push_back({images(6, 40 + i), labels(6, i)});
    for (uint64_t i = 0; i < 2; ++i) calibration_items.push_back({images(5, 50 + i), labels(5, i)});
    MemoryBatches train(train_items), val({{images(4, 60), labels(4, 0)}}), calibration(calibration_items);
    FitOptions o;
    o.max_epochs = 2;
    o.restore_best = false;
    o.health.every = 0;
    if (recalibrate) o.recalibration = &calibration;
    const FitResult r = fit(*m, adam, train, &val, o);
    return std::pair{std::move(m), r};
  };
  auto [plain, plain_result] = run(false);
  auto [recalibrated, recalibrated_result] = run(true);
  // The same updates: training forwards use batch statistics, never the running ones.
  CHECK(plain->params().to_vector() == recalibrated->params().to_vector());
  CHECK(plain_result.history[1].train_loss == recalibrated_result.history[1].train_loss);
  // The running statistics are those of the calibration batches, for the final weights.
  auto expected = bn_model();
  expected->params().copy_from(recalibrated->params());
  expected->forward(images(5, 50), Mode::calibrate);
  expected->forward(images(5, 51), Mode::calibrate);
  CHECK(expected->state().to_vector() == recalibrated->state().to_vector());
  CHECK(plain->state().to_vector() != recalibrated->state().to_vector());
  // ... and validation used them.
  CHECK(plain_result.history[1].val_loss != recalibrated_result.history[1].val_loss);
}

TEST_CASE("batchnorm2d: an empty batch changes nothing (no 0 / 0 in the running statistics)") {
  auto m = parse_model_spec("input height=4 width=4 channels=2\nbatchnorm2d\n", "empty batch");
  m->init(1);
  const std::vector<float> before = m->state().to_vector();
  m->forward(Tensor::zeros(Shape{0, 2, 4, 4}), Mode::train);
  m->zero_grad();
  m->backward(Tensor::zeros(Shape{0, 2, 4, 4}));
  CHECK(m->state().to_vector() == before);
  CHECK(m->grads().to_vector() == std::vector<float>(4, 0.0f));
}

TEST_CASE("batchnorm2d: weights files carry the running statistics by name") {
  TempDir dir("batchnorm_weights");
  auto m = bn_model();
  Adam adam;
  Trainer t(*m, adam);
  for (int step = 0; step < 3; ++step) t.step(images(6, 3), labels(6, 1));
  const std::string path = dir.file("w.safetensors");
  save_weights(*m, path);
  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.tensors.count("1.running_mean") == 1);
  CHECK(f.tensors.at("1.running_var").to_vector() == m->named_buffers()[1].value.to_vector());
  auto back = bn_model(99);
  load_weights(*back, path);
  CHECK(all_state(*back) == all_state(*m));
  CHECK(back->predict(images(4, 4)).to_vector() == m->predict(images(4, 4)).to_vector());
}

TEST_CASE("state hook: a run resumed from a checkpoint continues bit-exact, batch norm statistics and dropout counter included") {
  TempDir dir("batchnorm_resume");
  const std::string path = dir.file("ckpt.safetensors");
  auto m = bn_model();
  Adam adam;
  Trainer t(*m, adam);
  for (int step = 0; step < 4; ++step) t.step(images(6, 10 + step), labels(6, step));
  CheckpointState s;
  s.epoch = 1;
  save_checkpoint(path, *m, adam, s);
  const CheckpointState saved = read_checkpoint(path).state;
  CHECK(saved.layer_counters == std::map<std::string, uint64_t>{{"5.calls", 4}});
  for (int step = 4; step < 8; ++step) t.step(images(6, 10 + step), labels(6, step));

  auto resumed = bn_model();  // same seed: init(seed) also seeds dropout
  Adam adam2;
  load_checkpoint(path, *resumed, &adam2);
  CHECK(resumed->counters() == saved.layer_counters);
  Trainer t2(*resumed, adam2);
  for (int step = 4; step < 8; ++step) t2.step(images(6, 10 + step), labels(6, step));
  CHECK(all_state(*resumed) == all_state(*m));
  CHECK(resumed->counters() == m->counters());
}

TEST_CASE("cuda: batchnorm2d forward, backward and running statistics match the CPU reference, calibrate mode included") {
  RADIUS_SKIP_WITHOUT_CUDA();
  for (const Mode mode : {Mode::train, Mode::eval, Mode::calibrate}) {
    CAPTURE(int(mode));
    auto cpu = bn_model(), gpu = bn_model();
    cpu->params().copy_from(random_cpu(cpu->params().shape(), 8, -0.5f, 0.5f));
    gpu->params().copy_from(cpu->params());
    gpu->to(Device::cuda);
    const int64_t n = small_tests() ? 3 : 32;
    const Tensor x = images(n, 9);
    if (mode == Mode::calibrate) {  // a second calibrate batch: the running average's k / (k + 1) weight
      cpu->forward(images(n, 19), mode);
      gpu->forward(images(n, 19).to(Device::cuda), mode);
    }
    const Tensor& want = cpu->forward(x, mode);
    const Tensor& got = gpu->forward(x.to(Device::cuda), mode);
    CHECK(rel_error(want, got) < kCudaTolerance);
    const Tensor dlogits = random_cpu(want.shape(), 10);
    cpu->zero_grad();
    gpu->zero_grad();
    cpu->backward(dlogits);
    gpu->backward(dlogits.to(Device::cuda));
    CHECK(rel_error(cpu->grads(), gpu->grads()) < kCudaTolerance);
    CHECK(rel_error(cpu->state(), gpu->state()) < kCudaTolerance);
  }
}
