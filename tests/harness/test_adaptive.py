"""Compute-optimal scaling end to end on real vLLM: the toy medium model runs majority@8
and greedy through lm-eval, ``calibrate`` chooses per difficulty bin and budget, and
``strategy=adaptive`` runs the held-out problems: it never exceeds its budget, its pilot
is in every record's cost, and harder bins run other settings than easy ones."""

from __future__ import annotations

import json

import pytest

from tts_eval.report.calibrate import calibrate
from tts_eval.report.runs import load_run
from tts_eval.toy import model_path

pytestmark = pytest.mark.vllm
TASKS = [f"arith_tts_l{level}" for level in range(1, 6)]
BINS = 3  # asked for; a pilot of 4 agrees in 5 steps, so there may be fewer


@pytest.fixture(scope="module")
def engine():
    from tts_eval.toy.evaluate import make_engine

    engine = make_engine(model_path("medium"))
    yield engine
    engine.close()


def _run(engine, out, *, limit=None, samples=None, **args):
    from tts_eval.harness.evaluate import evaluate
    from tts_eval.harness.model import TTSVLLM

    model_args = {"pretrained": str(model_path("medium")), "max_gen_toks": 160,
                  "temperature": 0.8, "seed": 0, **args}
    evaluate(TTSVLLM(engine=engine, **model_args), model_args, TASKS, out, limit=limit,
             samples=samples)
    return load_run(out)


def test_adaptive_spends_within_budget_and_gives_hard_bins_other_settings(engine, tmp_path):
    runs = [_run(engine, tmp_path / "majority8", limit=8, strategy="majority", n=8),
            _run(engine, tmp_path / "greedy", limit=8, strategy="greedy")]
    # Budgets in tokens, each with room for the pilot's and a sample's worst case (160
    # tokens each): a budget is never exceeded, so a step is taken only if it fits at worst
    calibration, _ = calibrate(runs, TASKS, bins=BINS, share=0.5, seed=0, unit="tokens",
                               budgets=[900, 1800, 3600])
    file = tmp_path / "calibration.json"
    calibration.save(file)
    differ = [j for j, budget in enumerate(calibration.budgets) if calibration.use_pilot[j]
              and calibration.table[0][j].setting != calibration.table[-1][j].setting]
    assert differ, "no budget where the pilot pays and the easiest and hardest bins differ"
    budget = calibration.budgets[differ[-1]]

    adaptive = _run(engine, tmp_path / "adaptive", samples=calibration.split["evaluation"],
                    strategy="adaptive", calibration=str(file), budget_tokens=budget)
    problems = [p for task in TASKS for p in adaptive.tasks[task]]
    assert len(problems) == sum(len(v) for v in calibration.split["evaluation"].values())
    by_bin: dict[int, set[str]] = {}
    for problem in problems:
        record = problem.record
        assert record.strategy == "adaptive"
        assert record.cost.total_tokens <= budget  # never past its budget
        chosen = record.extra["adaptive"]
        # 4 pilot samples, fewer when their worst case (160 tokens each) would not fit
        assert 1 <= chosen["pilot"]["samples"] <= 4
        pilot_tokens = chosen["pilot"]["cost"]["total_tokens"]
        expected = calibration.choose(chosen["bin"], budget).setting
        if chosen["setting"] == "pilot majority":  # no room left for the chosen setting
            assert record.cost.total_tokens == pilot_tokens
        else:
            assert chosen["setting"] == calibration.settings[expected].label
            assert 0 < pilot_tokens < record.cost.total_tokens
        by_bin.setdefault(chosen["bin"], set()).add(chosen["setting"])
    hardest = len(calibration.table)
    assert by_bin.get(1) and by_bin.get(hardest), f"held-out problems per bin: {by_bin}"
    assert by_bin[1] != by_bin[hardest]
    (results,) = (tmp_path / "adaptive").rglob("results_*.json")
    assert json.loads(results.read_text())["config"]["model_args"]["strategy"] == "adaptive"
