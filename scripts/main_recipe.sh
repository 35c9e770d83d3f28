# The main job's data and training recipe, in one place: sourced by scripts/main.sh
# (one run) and scripts/seed_sweep.sh (the same run at several seeds).

# 2400 train, 400 val, 400 test images, balanced, at the generator's defaults (data/synth.h).
main_synth_args=(--train 2400 --val 400 --test 400 --seed 1)

# The advised recipe (`radius train --recipe advised`, the default; README, "The advised recipe"):
# models/advised.spec (the paper's conv blocks with batch norm, global max pooling instead of
# Flatten + Dense(512)), He init, Adam in Keras' form at lr 1e-3 with a one-epoch warmup and cosine
# decay, the paper's augmentation growing from none over 10 epochs, 15 epochs (1,125 steps) without
# early stopping, the best epoch's weights (validation loss) restored for the test. The seed
# paper's recipe is `--recipe paper` (bash scripts/main.sh --recipe paper --epochs 30
# --augment-warmup 10 --patience 0 --lr 3e-4 is the main job before the advised recipe).
main_train_args=(--recipe advised --epochs 15)

# prepare_main_data DIR USER_GIVEN: writes the data set into DIR unless it is there.
# The default folder (USER_GIVEN=0) is remade when it was written with other arguments
# or by a generator with other defaults (its --help lists them), so an updated checkout
# never trains on stale data. A folder the user named (USER_GIVEN=1) is only written
# when it does not exist.
prepare_main_data() {
  local data=$1 user_given=$2
  local stamp
  stamp="synth ${main_synth_args[*]} $(./build/radius synth --help | sha256sum | cut -c1-16)"
  if [ "$user_given" = 0 ] && [ -d "$data" ] && [ "$(cat "$data/main-job.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "== $data was made with other generator settings: writing it again"
    rm -rf "$data"
  fi
  if [ ! -d "$data/train" ]; then
    ./build/radius synth --out "$data" "${main_synth_args[@]}"
    echo "$stamp" > "$data/main-job.stamp"
  fi
}

# recipe_with EXTRA...: prints main_train_args, one per line, without the options that
# EXTRA gives again (so `-- --epochs 10` replaces the recipe's --epochs), then EXTRA.
# The recipe's options all take one value.
recipe_with() {
  local i
  for ((i = 0; i < ${#main_train_args[@]}; i += 2)); do
    local flag=${main_train_args[i]} given=0 e
    for e in "$@"; do [ "$e" = "$flag" ] && given=1; done
    [ "$given" = 1 ] || printf '%s\n%s\n' "$flag" "${main_train_args[i + 1]}"
  done
  [ $# -eq 0 ] || printf '%s\n' "$@"
}
