#!/usr/bin/env bash
# The toy world run the CI regression gate compares: medium, majority of 8, arith_tts,
# 10 problems per level, seed 0. Writes an lm-eval --output_path folder to $1.
#   bash leaderboards/baseline_run.sh runs/candidate
#   .venv/bin/tts-eval compare leaderboards/baselines/toy-medium-majority8 runs/candidate
set -euo pipefail
OUT=${1:?usage: baseline_run.sh OUTPUT_DIR}
cd "$(dirname "$0")/.."
MEDIUM=$(.venv/bin/python -c "from tts_eval.toy import model_path; print(model_path('medium'))")
rm -rf "$OUT"
.venv/bin/lm_eval --model tts-vllm --tasks arith_tts --limit 10 \
  --model_args "pretrained=$MEDIUM,strategy=majority,n=8,enforce_eager=True,max_model_len=512,max_gen_toks=160,temperature=0.8,seed=0,store=off" \
  --log_samples --output_path "$OUT"
# lm-eval writes into a subfolder named after the model's path on this machine: lift it out
for sub in "$OUT"/*/; do mv "$sub"* "$OUT"/ && rmdir "$sub"; done
