"""lm-eval hooks shared by every tts task's common YAML."""

from tts_eval.harness.task_hooks import run_total

__all__ = ["run_total"]
