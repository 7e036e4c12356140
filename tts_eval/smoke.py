"""``tts-eval smoke``: an end-to-end evaluation that needs no GPU and no network.

Builds the tiny random-weight model, then runs the stock ``lm_eval`` CLI with
``--model tts-vllm`` (majority voting over 8 samples) on MATH-500 read from local
files, and prints the result table. It proves the whole chain works on this machine:
vLLM engine, strategy, grading, lm-eval task and metrics. The model is noise, so the
accuracy is ~0; the token counts and the records are the point.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from tts_eval.data import DATA_DIR_ENV


def default_data_dir() -> Path | None:
    """$TTS_EVAL_DATA_DIR, else ../shared/data beside a source checkout."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    beside_checkout = Path(__file__).resolve().parents[2] / "shared" / "data"
    return beside_checkout if beside_checkout.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tts-eval smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/smoke", help="output directory")
    parser.add_argument("--limit", type=int, default=50, help="MATH-500 problems (default 50)")
    parser.add_argument("--n", type=int, default=8, help="samples per problem (default 8)")
    args = parser.parse_args(argv)

    data = default_data_dir()
    if data is None or not (data / "math500.jsonl").is_file():
        print(f"tts-eval smoke: no local MATH-500 found; set {DATA_DIR_ENV} to a directory "
              "holding math500.jsonl (see README, 'Tasks')", file=sys.stderr)
        return 2
    out = Path(args.out)
    model_dir = out / "tiny-model"
    if not (model_dir / "config.json").is_file():
        from tts_eval.tiny_model import build_tiny_model

        print(f"building the tiny model in {model_dir} ...", flush=True)
        build_tiny_model(model_dir)
    model_args = (f"pretrained={model_dir},strategy=majority,n={args.n},max_gen_toks=64,"
                  "enforce_eager=True,max_model_len=2048,seed=0")
    command = [str(Path(sys.executable).with_name("lm_eval")), "--model", "tts-vllm",
               "--model_args", model_args, "--tasks", "math500_tts",
               "--limit", str(args.limit), "--log_samples", "--output_path", str(out / "lm_eval")]
    env = dict(os.environ, **{DATA_DIR_ENV: str(data)})
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    print("running:", " ".join(command), flush=True)
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
