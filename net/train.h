// One training step and a plain evaluation pass, for a binary classifier with
// one logit per sample (the fracture model) trained with BCE from logits.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "net/comm.h"
#include "net/sequential.h"
#include "optim/optimizer.h"

namespace radius {

struct StepResult {
  double loss = 0;      // mean BCE over the batch
  int64_t correct = 0;  // predictions (logit > 0) equal to the label
};

// x [N, C, H, W], labels [N] in {0, 1}. zero_grad -> forward (train) -> loss ->
// backward (per micro-batch, when set) -> (clip) -> optimizer step. Scratch for dlogits is kept between calls.
// x and labels must be on the model's device (model.device()); on a GPU the
// whole step runs there and only the loss and the correct count come back.
class Trainer {
 public:
  Trainer(Sequential& model, Optimizer& optimizer) : model_(model), optimizer_(optimizer) {}
  StepResult step(const Tensor& x, const Tensor& labels);
  StepResult evaluate(const Tensor& x, const Tensor& labels);  // eval mode, no update
  // Gradient-norm clipping before every update (optim/clip.h); 0 = off (the default).
  void set_clip_norm(double max_norm) { clip_norm_ = max_norm; }
  // Gradient accumulation: each batch runs as `parts` micro-batches (sizes differ by at
  // most one), one forward and backward each, then one update with the batch's mean
  // gradient; activations take a micro-batch's memory. Each micro-batch's gradient is
  // computed from zero and added to the sum in order, which is what R processes, one
  // micro-batch each, adding their gradients in rank order, compute bit for bit. Batch
  // norm then normalises by micro-batch statistics (as data-parallel training does).
  void set_micro_batches(int parts) { micro_batches_ = parts < 1 ? 1 : parts; }
  // Data parallelism over `comm`'s R ranks (net/comm.h): every rank is given the same
  // global batch, split as set_micro_batches(M) splits it (M = R when micro_batches is 1;
  // else M >= R), and runs its micro-batches: a contiguous run of them, rank 0's first
  // (with M = R, micro-batch k on rank k). The gradients are summed micro-batch by
  // micro-batch in order, and every rank takes the same update. So R ranks compute what
  // one process with --micro-batches M computes, bit for bit, whatever R divides it into
  // (a run resumes on another rank count). What that process does sequentially, the
  // ranks reproduce exactly:
  //  - layer counters (dropout's draw count): micro-batch k draws with count c + k, and
  //    every rank ends at c + M (each counter must advance by 0 or 1 per forward);
  //  - state buffers (batch norm's running statistics): micro-batch k updates the state
  //    micro-batch k - 1 left, so the state passes along the ranks in order: rank q
  //    receives it from rank q - 1 and re-runs its stateful layers' forward on its
  //    micro-batches' inputs (their outputs do not depend on the state in training), then
  //    the last rank's state goes to all. R small messages, only for models with state.
  // A batch of fewer than M images runs as the one process would split it (batches of
  // one image: every rank runs it whole). nullptr or a 1-rank communicator: one process.
  void set_communicator(Communicator* comm) { comm_ = comm; }
  // For the next step only: a rank that does not run the last micro-batch runs that
  // micro-batch's forward too (before the update; state and counters restored after),
  // so that after the step the model's activations are the ones the micro-batched
  // process ends its step with (the health monitor reads them). No effect in one process.
  void want_last_activations() { want_last_activations_ = true; }
  // Wall time of the steps so far and of their gradient all-reduce (with the state and
  // loss exchanges), for the all-reduce's share of a data-parallel step (docs/scaling.md).
  double step_seconds() const { return step_seconds_; }
  double allreduce_seconds() const { return allreduce_seconds_; }

 private:
  int parts_of(int64_t n) const;  // micro-batches of a batch of n
  StepResult data_parallel_step(const Tensor& x, const Tensor& labels, int64_t parts);
  void pass_state_along(const Tensor& x, int64_t parts);  // batch norm's running statistics, rank after rank
  void keep_stateful_inputs(const Tensor& x, int64_t p, int64_t parts);
  void replay_last_forward(const Tensor& x, int64_t parts);
  // forward (train) -> loss -> dLoss/dlogits x weight -> backward (accumulates).
  StepResult forward_backward(const Tensor& x, const Tensor& labels, float weight);

  Sequential& model_;
  Optimizer& optimizer_;
  Tensor dlogits_;
  Tensor grad_sum_;  // micro-batches' gradient sum
  double clip_norm_ = 0;
  int micro_batches_ = 1;
  Communicator* comm_ = nullptr;
  std::map<std::string, uint64_t> last_part_counters_;  // the counters the last micro-batch drew with
  double step_seconds_ = 0, allreduce_seconds_ = 0;
  bool want_last_activations_ = false;
  Tensor parts_grads_;  // a rank's micro-batch gradients, [count][gradient], when it runs several
  std::vector<std::vector<Tensor>> stateful_inputs_;  // per own micro-batch but the last: the stateful layers' inputs
};

int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace radius
