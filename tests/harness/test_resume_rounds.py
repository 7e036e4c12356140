"""A multi-round strategy survives SIGKILL too: budget forcing on the toy thinker, killed
after its first thinking round, resumes from the stored rounds (tests/harness/cli_runs.py
holds the procedure; test_resume.py does majority voting)."""

from __future__ import annotations

import pytest
from cli_runs import killed_and_resumed

from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm


def test_budget_forcing_resumes_after_sigkill_in_a_later_round(bin_dir, tmp_path):
    thinker = model_path("thinker")
    problems, chains = 20, 4
    runs = killed_and_resumed(
        bin_dir, tmp_path, "arith_tts_l3", problems,
        f"pretrained={thinker},strategy=budget_forcing,n={chains},max_thinking_tokens=64,"
        "num_ignore=1,max_answer_tokens=16,enforce_eager=True,max_model_len=512",
        kills=1, first_round=problems * chains)  # killed after the first thinking round
    assert runs[-1]["reused"] >= problems * chains
