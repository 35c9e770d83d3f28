// Training does not depend on the thread count: the same seed gives the same
// weights, bit for bit, on 1, 2 and 4 threads (4 oversubscribes a 2-core
// machine, which is fine: only the order of the sums could differ, not the
// timing). Every sum in a training step runs in an order fixed by the data's
// shape alone (tensor/parallel.h says how), and these tests hold it to that.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/gemm.h"
#include "layers/pool2d.h"
#include "net/sequential.h"
#include "net/train.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "tensor/parallel.h"
#include "tests/gradcheck.h"

using namespace radius;

namespace {

// Restores the thread count a test found, so the tests after it run as before.
struct ThreadCountGuard {
  int saved = num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

// Sized so that every parallel path of a step really splits its work: the ReLU
// outputs and Adam's 88 K parameters pass the elementwise loops' 64 K threshold,
// the batch gives the convolutions several image chunks, the first convolution's
// patch (27) takes Eigen's backward-filter GEMM and the second's (144) ours.
Sequential small_model() {
  Sequential m(Shape{3, 24, 24});
  m.add(std::make_unique<Conv2D>(16, 3, 3));                // [16, 22, 22]
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Pool2D>(PoolKind::max, 2, 2, 0));  // [16, 11, 11]
  m.add(std::make_unique<Conv2D>(16, 3, 3));                // [16, 9, 9]
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Flatten>());                       // [1296]
  m.add(std::make_unique<Dropout>(0.5f));
  m.add(std::make_unique<Dense>(64));
  m.add(std::make_unique<ReLU>());
  m.add(std::make_unique<Dense>(1));
  m.add(std::make_unique<Sigmoid>());  // head
  return m;
}

struct Run {
  std::vector<float> params;
  std::vector<double> losses;
};

// A few Adam steps on random images and labels; everything but the thread count is fixed.
Run train_on(int threads, double clip_norm) {
  set_num_threads(threads);
  Sequential m = small_model();
  m.init(7);
  Adam adam(AdamConfig::keras(1e-3f));
  Trainer trainer(m, adam);
  trainer.set_clip_norm(clip_norm);
  const int64_t batch = 20;  // not a multiple of any chunk count or thread count
  Run run;
  for (uint64_t step = 0; step < 4; ++step) {
    const Tensor x = Tensor::from_vector(Shape{batch, 3, 24, 24},
                                         test::random_floats(size_t(batch * 3 * 24 * 24), 100 + step));
    std::vector<float> labels = test::random_floats(size_t(batch), 200 + step, 0.0f, 1.0f);
    for (float& y : labels) y = y < 0.5f ? 0.0f : 1.0f;
    run.losses.push_back(trainer.step(x, Tensor::from_vector(Shape{batch}, labels)).loss);
  }
  run.params = m.params().to_vector();
  return run;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("threads: training is bit-identical on 1, 2 and 4 threads") {
  ThreadCountGuard guard;
  for (double clip : {0.0, 0.05}) {  // 0.05: small enough that the clip fires every step
    CAPTURE(clip);
    const Run one = train_on(1, clip);
    for (int threads : {2, 4}) {
      CAPTURE(threads);
      const Run many = train_on(threads, clip);
      CHECK(many.losses == one.losses);  // exact: the same sums in the same order
      CHECK(same_bits(many.params, one.params));
    }
  }
}

TEST_CASE("threads: conv2d and dense gradients are bit-identical on 1, 2 and 4 threads") {
  ThreadCountGuard guard;
  const Conv2dGeom g = Conv2dGeom::make(8, 12, 12, 16, 3, 3, 1, Padding::same);
  const int64_t n = 13, xs = n * g.c * g.h * g.w, ys = n * g.k * g.pixels(), ws = g.k * g.patch();
  const std::vector<float> x = test::random_floats(size_t(xs), 1), w = test::random_floats(size_t(ws), 2);
  const std::vector<float> dy = test::random_floats(size_t(ys), 3);
  const int64_t in = 700, out = 120;  // over sgemm_parallel's 1 M FMAs: the columns are split
  const std::vector<float> dense_x = test::random_floats(size_t(n * in), 4);
  const std::vector<float> dense_w = test::random_floats(size_t(out * in), 5);
  const std::vector<float> dense_dy = test::random_floats(size_t(n * out), 6);
  auto grads = [&](int threads) {
    set_num_threads(threads);
    // Parameter gradients accumulate onto random values, as a second backward pass would.
    std::vector<float> dx(size_t(xs), 0.0f);
    std::vector<float> dw = test::random_floats(size_t(ws), 7), db = test::random_floats(size_t(g.k), 8);
    conv2d_backward(g, n, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());
    std::vector<float> y(size_t(n * out), 0.0f), ddx(size_t(n * in), 0.0f);
    std::vector<float> ddw = test::random_floats(size_t(out * in), 9), ddb = test::random_floats(size_t(out), 10);
    dense_forward(n, in, out, dense_x.data(), dense_w.data(), ddb.data(), y.data());
    dense_backward(n, in, out, dense_x.data(), dense_w.data(), dense_dy.data(), ddx.data(), ddw.data(), ddb.data());
    return std::vector<std::vector<float>>{dx, dw, db, y, ddx, ddw, ddb};
  };
  const auto one = grads(1);
  for (int threads : {2, 4}) {
    CAPTURE(threads);
    const auto many = grads(threads);
    for (size_t i = 0; i < one.size(); ++i) {
      CAPTURE(i);
      CHECK(same_bits(many[i], one[i]));
    }
  }
}

TEST_CASE("sgemm: an element of C does not depend on how C is cut") {
  // What lets the dense layer split its products across threads freely: each
  // C element is one fixed chain of FMAs over the depth, wherever its tile lies.
  const int64_t m = 37, n = 75, k = 700;  // k > one depth block; m, n not tile multiples
  const std::vector<float> a = test::random_floats(size_t(m * k), 11), b = test::random_floats(size_t(k * n), 12);
  std::vector<float> whole(size_t(m * n)), cut(size_t(m * n));
  sgemm(Trans::no, Trans::no, m, n, k, a.data(), k, b.data(), n, 0.0f, whole.data(), n);
  const std::vector<int64_t> rows{0, 5, 17, m}, cols{0, 16, 33, 70, n};  // uneven cuts, some off the 6x16 tiles
  for (size_t r = 0; r + 1 < rows.size(); ++r)
    for (size_t c = 0; c + 1 < cols.size(); ++c) {
      const int64_t i0 = rows[r], j0 = cols[c];
      sgemm(Trans::no, Trans::no, rows[r + 1] - i0, cols[c + 1] - j0, k, a.data() + i0 * k, k, b.data() + j0, n, 0.0f,
            cut.data() + i0 * n + j0, n);
    }
  CHECK(same_bits(cut, whole));
}

TEST_CASE("threads: the global gradient norm is bit-identical on 1, 2 and 4 threads") {
  ThreadCountGuard guard;
  // Many chunks of very different magnitudes, so that any other grouping of the sum rounds differently.
  std::vector<float> g = test::random_floats(size_t(1) << 20, 13);
  for (size_t i = 0; i < g.size(); ++i) g[i] *= float(1 + (i * 2654435761u) % 997);
  const Tensor grads = Tensor::from_vector(Shape{int64_t(g.size())}, g);
  set_num_threads(1);
  const double one = global_norm(grads);
  for (int threads : {2, 4}) {
    CAPTURE(threads);
    set_num_threads(threads);
    CHECK(global_norm(grads) == one);
  }
}
