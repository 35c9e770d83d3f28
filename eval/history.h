// Per-epoch training history: what the trainer records, history.csv holds,
// and the learning-curve charts draw.
#pragma once
#include <string>
#include <vector>

#include "eval/metrics.h"  // kNaN

namespace radius {

// Epochs count from 1, as Keras prints them ("Epoch 11/50"). A value that was
// not measured (no validation set) is NaN: an empty field in the CSV, a gap
// in the charts.
struct HistoryRow {
  int epoch = 0;
  double train_loss = kNaN, train_accuracy = kNaN;
  double val_loss = kNaN, val_accuracy = kNaN;
  double learning_rate = kNaN;
  double seconds = kNaN;  // wall time of the epoch, validation included
};

// Columns: epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds.
// Written atomically; numbers with 9 significant digits (a float round-trips).
void write_history_csv(const std::string& path, const std::vector<HistoryRow>& rows);
// Reads what write_history_csv wrote (for resume and for re-plotting); errors
// name the file and line.
std::vector<HistoryRow> read_history_csv(const std::string& path);

// The epoch with the lowest validation loss (what early stopping restores), or
// 0 when no epoch has one. The first on ties, as Keras keeps the first best.
int best_epoch(const std::vector<HistoryRow>& rows);

}  // namespace radius
