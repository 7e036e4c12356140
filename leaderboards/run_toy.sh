#!/usr/bin/env bash
# Reproduce leaderboards/toy/: every strategy on the toy world through the stock lm_eval CLI,
# then the tables. Usage (from the checkout, after scripts/setup.sh):
#   bash leaderboards/run_toy.sh              # the runs (about 25 min on 2 cores) and the tables
#   bash leaderboards/run_toy.sh NAME...      # only these runs again (e.g. medium-dvts8), and the tables
#   bash leaderboards/run_toy.sh --tables [DIR]  # only the tables, from the stored runs
#                                                # (seconds; into DIR instead of leaderboards/toy)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=leaderboards/runs/toy
LIMIT=10  # problems per level (x5 levels)
# lm-eval writes into a subfolder named after the model's path on this machine: lift it out
flatten() { local sub; for sub in "$1"/*/; do mv "$sub"* "$1"/ && rmdir "$sub"; done; }
model() { .venv/bin/python -c "from tts_eval.toy import model_path; print(model_path('$1'))"; }
ONLY=" $* "
wanted() { [[ "$ONLY" == "  " || "$ONLY" == *" $1 "* ]]; }
run() {  # run NAME MODEL MODEL_ARGS...
  local name=$1 which=$2; shift 2
  wanted "$name" || return 0
  local args="pretrained=$(model "$which"),enforce_eager=True,max_model_len=512,max_gen_toks=160,temperature=0.8,seed=0,store=off"
  for extra in "$@"; do args="$args,$extra"; done
  rm -rf "$RUNS/$name"
  .venv/bin/lm_eval --model tts-vllm --tasks arith_tts --limit "$LIMIT" --model_args "$args" \
    --log_samples --output_path "$RUNS/$name"
  flatten "$RUNS/$name"
}
if [[ "${1:-}" != "--tables" ]]; then
  for size in small medium large; do
    run "$size-greedy" "$size" strategy=greedy
    [[ $size == medium ]] || run "$size-majority8" "$size" strategy=majority n=8
  done
  if wanted medium-majority8; then  # also the CI gate's stored baseline (tts-regression.yml)
    bash leaderboards/baseline_run.sh "$RUNS/medium-majority8"
    rm -rf leaderboards/baselines/toy-medium-majority8
    mkdir -p leaderboards/baselines
    cp -r "$RUNS/medium-majority8" leaderboards/baselines/toy-medium-majority8
  fi
  run medium-best_of_n8 medium strategy=best_of_n n=8 verifier=toy-prm
  run medium-weighted_majority8 medium strategy=weighted_majority n=8 verifier=toy-prm
  run medium-beam_search8 medium strategy=beam_search n=8 beam_width=2 verifier=toy-prm
  run medium-dvts8 medium strategy=dvts n=8 beam_width=2 verifier=toy-prm
  run medium-rebase8 medium strategy=rebase n=8 verifier=toy-prm
  run medium-majority-budget medium strategy=majority budget_tokens=1500
  run thinker-majority4 thinker strategy=majority n=4
  run thinker-budget_forcing4 thinker strategy=budget_forcing n=4 max_thinking_tokens=96 \
    num_ignore=1 max_answer_tokens=16
  run thinker-revisions4 thinker strategy=revisions n=1 revisions=4
fi
OUT=leaderboards/toy
[[ "${1:-}" == "--tables" && -n "${2:-}" ]] && OUT=$2
rm -rf "$OUT"
.venv/bin/tts-eval leaderboard "$RUNS"/* --out "$OUT" \
  --title "tts-eval toy world: every strategy on arith_tts ($LIMIT problems per level)"
