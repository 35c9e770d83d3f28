# Helpers of the GPU check (scripts/gpu_check.sh), sourced; tested by
# scripts/test_gpu_scripts.py. Expects LOG (the log file), STEPS (the status file
# gpu_summary.py reads), BUDGET (seconds for the whole run), START (its $SECONDS)
# and PLAN (scripts/gpu_plan.tsv).

SUMMARY_RESERVE_S=${SUMMARY_RESERVE_S:-15}  # the machine report and the summary, after the last step
STEP_OUTPUT=${STEP_OUTPUT:-$(mktemp)}        # the last step's output alone (run_step)

log() { echo "$*" | tee -a "$LOG"; }

# record STEP STATUS SECONDS [NOTE]: one row of the summary's step table.
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$STEPS"; }

# plan_rows: the plan without comments, one "step<TAB>cap<TAB>kind<TAB>what" per line.
plan_rows() { grep -v '^#' "$PLAN" | grep -v '^[[:space:]]*$'; }

# plan_cap STEP: the step's cap in seconds (fails for a step not in the plan).
plan_cap() {
  local cap
  cap=$(plan_rows | awk -F'\t' -v s="$1" '$1 == s { print $2 }')
  [ -n "$cap" ] || { echo "gpu_check: step '$1' is not in $PLAN" >&2; return 1; }
  echo "$cap"
}

# required_after STEP: the caps of the required steps after STEP, summed.
required_after() {
  plan_rows | awk -F'\t' -v s="$1" 'seen && $3 == "required" { t += $2 } $1 == s { seen = 1 } END { print t + 0 }'
}

# plan_print: the plan as a table, with the budget.
plan_print() {
  log "plan (budget ${BUDGET} s, ${SUMMARY_RESERVE_S} s of it kept for the summary):"
  plan_rows | awk -F'\t' '{ printf "  %2d. %-20s %4d s  %-8s  %s\n", NR, $1, $2, $3, $4 }' | tee -a "$LOG"
  local required optional
  required=$(plan_rows | awk -F'\t' '$3 == "required" { t += $2 } END { print t + 0 }')
  optional=$(plan_rows | awk -F'\t' '$3 == "optional" { t += $2 } END { print t + 0 }')
  log "  required caps ${required} s + reserve ${SUMMARY_RESERVE_S} s of ${BUDGET} s; optional steps ${optional} s, run only on time left over"
}

# plan_check: fails (with the reason) unless the required caps fit the budget and
# the sanitizers come before every benchmark.
plan_check() {
  local required ok=0
  required=$(plan_rows | awk -F'\t' '$3 == "required" { t += $2 } END { print t + 0 }')
  if ((required + SUMMARY_RESERVE_S > BUDGET)); then
    log "plan check: the required caps (${required} s) + reserve (${SUMMARY_RESERVE_S} s) exceed the budget (${BUDGET} s)"
    ok=1
  fi
  local bad
  bad=$(plan_rows | awk -F'\t' '
    $3 !~ /^(required|optional)$/ || $2 !~ /^[0-9]+$/ { print "malformed row: " $0 }
    $1 ~ /^(bench|pytorch|sgemm playground)/ && !first_bench { first_bench = NR }
    $1 ~ /^(memcheck|racecheck)$/ { last_sanitizer = NR; sanitizers++ }
    END {
      if (sanitizers < 2) print "memcheck and racecheck must both be in the plan"
      if (first_bench && last_sanitizer > first_bench) print "a sanitizer runs after a benchmark"
    }')
  if [ -n "$bad" ]; then
    log "plan check: $bad"
    ok=1
  fi
  ((ok == 0)) && log "plan check: OK (required caps fit the budget; memcheck and racecheck before the benchmarks)"
  return $ok
}

# run_step [--copy FILE] STEP COMMAND...: runs COMMAND under the step's cap (or
# what the budget has left, if less), its output appended to the log (and, with
# --copy, to FILE as well). The recorded status is COMMAND's own exit status
# (PIPESTATUS, not tee's): OK, FAILED (exit N) or FAILED (timed out). Optional
# steps run only when the budget covers them and every required step after them.
# STEP_OUTPUT then holds this step's output alone. Returns COMMAND's status.
run_step() {
  local copy=/dev/null
  if [ "$1" = --copy ]; then
    copy=$2
    shift 2
  fi
  local name=$1 cap kind
  shift
  cap=$(plan_cap "$name") || return 1
  kind=$(plan_rows | awk -F'\t' -v s="$name" '$1 == s { print $3 }')
  local left=$((BUDGET - (SECONDS - START) - SUMMARY_RESERVE_S))
  if [ "$kind" = optional ] && ((left - $(required_after "$name") < cap)); then
    log "=== $name: SKIPPED (optional: the ${cap} s it may take are needed by the steps after it)"
    record "$name" SKIPPED 0 "optional, no spare time"
    return 0
  fi
  if ((left < ${MIN_STEP_S:-5})); then
    log "=== $name: SKIPPED (time budget spent)"
    record "$name" SKIPPED 0 "time budget spent"
    return 1
  fi
  local limit=$((cap < left ? cap : left)) t0=$SECONDS rc
  : >"$STEP_OUTPUT"
  [ "$copy" = /dev/null ] || : >"$copy"
  log "=== $name (limit ${limit} s)"
  timeout --kill-after=5 "$limit" "$@" 2>&1 | tee -a "$LOG" "$STEP_OUTPUT" "$copy"
  rc=${PIPESTATUS[0]}
  local dt=$((SECONDS - t0))
  if ((rc == 0)); then
    record "$name" OK "$dt"
  elif ((rc == 124 || rc == 137)); then
    record "$name" FAILED "$dt" "timed out (limit ${limit} s)"
  else
    record "$name" FAILED "$dt" "exit $rc"
  fi
  return "$rc"
}

# fail_step STEP NOTE: turns the step's last recorded status into FAILED (a check
# after the program, e.g. CUDA tests that skipped or a sanitizer report with errors).
fail_step() {
  local tmp
  tmp=$(mktemp)
  awk -F'\t' -v OFS='\t' -v s="$1" -v note="$2" '$1 == s { $2 = "FAILED"; $4 = ($4 == "" ? note : $4 "; " note) } { print }' \
    "$STEPS" >"$tmp" && cat "$tmp" >"$STEPS"
  rm -f "$tmp"
}

# skip_step STEP NOTE: records a step that cannot run here, with the reason.
skip_step() {
  log "=== $1: SKIPPED ($2)"
  record "$1" SKIPPED 0 "$2"
}

# sanitizer_clean FILE: true when a compute-sanitizer report ends with a summary
# of 0 errors (memcheck, synccheck, initcheck) or 0 hazards (racecheck); a run
# that crashed before its summary is not clean.
sanitizer_clean() {
  grep -qE "ERROR SUMMARY: 0 errors|RACECHECK SUMMARY: 0 hazards" "$1"
}
