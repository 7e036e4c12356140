"""Runs that survive SIGKILL: the stock ``lm_eval`` command with ``store=DIR`` is killed (the
whole process group, vLLM's engine process too) at random moments while vLLM generates, then
run again; the final records and metrics equal an uninterrupted run's, and the restarts
generated only what the store was missing (the store's own counts say so)."""

from __future__ import annotations

import pytest
from cli_runs import killed_and_resumed

from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm


def test_majority_resumes_after_sigkill(bin_dir, tmp_path):
    medium = model_path("medium")
    killed_and_resumed(
        bin_dir, tmp_path, "arith_tts_l2", 40,
        f"pretrained={medium},strategy=majority,n=16,enforce_eager=True,max_model_len=512",
        kills=2, first_round=0)
