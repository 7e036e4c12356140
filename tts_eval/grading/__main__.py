"""``python -m tts_eval.grading grade SAMPLES.jsonl``: the grading CLI without the wrapper."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
