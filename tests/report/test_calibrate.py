"""``tts-eval calibrate`` on constructed runs: difficulty bins, the choice per bin and
budget, the split's disjointness, the pilot's cost in every choice, out-of-fold accuracy,
and the strategy that reads the file refusing what it cannot use."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tts_eval.accounting import Budget, BudgetError, Cost
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.report.calibrate import calibrate
from tts_eval.report.runs import load_run
from tts_eval.strategies import get_strategy
from tts_eval.strategies.calibration import Calibration, CalibrationError, agreement

TASK = "math500_tts"
PROBLEMS = 40
SAMPLE_FLOPS, PREFILL, SEARCH_FLOPS = 1e9, 1e8, 2e10


def _easy(doc_id: int) -> bool:
    return doc_id % 2 == 0


def _record(strategy: str, params: dict, answers: list[str], chosen: int, flops: float,
            tree: bool = False) -> TTSRecord:
    return TTSRecord(
        strategy=strategy, params=params, answer_kind="math", seed=0,
        samples=[SampleRecord(f"\\boxed{{{a}}}", a, 10, 20, "stop", flops=SAMPLE_FLOPS)
                 for a in answers],
        chosen_index=chosen, chosen_answer=answers[chosen], prompt_tokens=10,
        cached_prompt_tokens=0, cost=Cost(prompt_tokens=10, completion_tokens=20 * len(answers),
                                          generator_flops=flops),
        tree=[] if tree else None)


def _write(folder: Path, records: list[TTSRecord], model_args: dict) -> Path:
    folder.mkdir(parents=True)
    lines = [json.dumps({"doc_id": i, "target": "5", "resps": [[r.to_json()]]})
             for i, r in enumerate(records)]
    (folder / f"samples_{TASK}_2026-01-01T00-00-00.000000.jsonl").write_text("\n".join(lines))
    (folder / "results_2026-01-01T00-00-00.000000.json").write_text(json.dumps(
        {"config": {"model_args": {"pretrained": "toy", **model_args}}}))
    return folder


@pytest.fixture
def runs(tmp_path):
    """Easy problems: every sample right (they agree). Hard problems: one sample right, the
    votes go to a wrong answer; a costly search finds the right one."""
    majority, search = [], []
    for doc_id in range(PROBLEMS):
        answers = ["5"] * 8 if _easy(doc_id) else ["5", "7", "7", "9", "9", "11", "11", "13"]
        majority.append(_record("majority", {"n": 8, "temperature": 0.8}, answers, 0,
                                PREFILL + 8 * SAMPLE_FLOPS))
        search.append(_record("beam_search", {"n": 8, "beam_width": 2, "temperature": 0.8},
                              ["5"], 0, SEARCH_FLOPS, tree=True))
    return [_write(tmp_path / "majority8", majority, {"strategy": "majority"}),
            _write(tmp_path / "beam8", search, {"strategy": "beam_search", "beam_width": 2,
                                                "verifier": "toy-prm"})]


def test_agreement_counts_the_largest_cluster_and_no_answer_agrees_with_nothing():
    assert agreement([0, 0, 1, -1]) == 0.5 and agreement([-1, -1]) == 0.0
    assert agreement([]) == 0.0


def test_hard_bins_buy_the_search_easy_bins_one_sample_and_the_pilot_is_charged(runs):
    loaded = [load_run(r) for r in runs]
    budgets = [6e9, 3e10]
    calibration, report = calibrate(loaded, [TASK], difficulty="agreement", pilot=4, bins=2,
                                    budgets=budgets, share=0.5, seed=3, folds=2)
    labels = [[None if c.setting is None else calibration.settings[c.setting].label
               for c in row] for row in calibration.table]
    easy, hard = labels
    assert easy == ["majority(n=1)", "majority(n=1)"]  # right already: the cheapest
    assert hard[1] == "beam_search(beam_width=2, n=8)"  # only the search is right there
    assert calibration.settings[calibration.table[1][1].setting].verifier == "toy-prm"
    # the pilot (prefill + 4 samples) is part of every choice's cost
    pilot_cost = PREFILL + 4 * SAMPLE_FLOPS
    assert calibration.pilot["cost"] == pytest.approx(pilot_cost)
    assert calibration.table[0][0].cost == pytest.approx(pilot_cost + PREFILL + SAMPLE_FLOPS)
    assert hard[0] == "majority(n=1)"  # the search does not fit 6e9 with its pilot
    # agreement of the first 4 samples: easy problems 1.0, hard 0.5 (5, 7, 7, 9)
    assert calibration.edges == [pytest.approx(0.75)]
    assert calibration.bin_of(1.0) == 1 and calibration.bin_of(0.5) == 2
    # the split: disjoint, together every problem, recorded with its seed
    split = calibration.split
    cal, held = set(split["calibration"][TASK]), set(split["evaluation"][TASK])
    assert not cal & held and cal | held == set(range(PROBLEMS)) and len(cal) == 20
    assert split["seed"] == 3
    # compute-optimal is right everywhere at the large budget, out of fold and held out;
    # the best single setting (the search) costs more for the same accuracy
    assert report["out_of_fold"][1][0] == 1.0 and report["held_out"][1][0] == 1.0
    single_acc, single_cost, _ = report["single_held_out"][1]
    assert single_acc == 1.0 and single_cost > report["held_out"][1][1]
    # at 6e9 the pilot leaves room for one sample only: majority of 4 without a pilot wins
    assert calibration.use_pilot == [False, True]
    assert calibration.settings[calibration.single[0].setting].label == "majority(n=4)"


def test_adaptive_runs_the_single_setting_where_the_pilot_does_not_pay(runs, tmp_path):
    calibration, _ = calibrate([load_run(r) for r in runs], [TASK], bins=2,
                               budgets=[6e9, 3e10], seed=3)
    calibration.save(tmp_path / "calibration.json")
    cheap = get_strategy("adaptive", budget=Budget(flops=7e9),
                         calibration=str(tmp_path / "calibration.json"))
    assert cheap.single == calibration.single[0].setting and not cheap.uses_verifier
    assert cheap.params["pilot"] == 0
    rich = get_strategy("adaptive", budget=Budget(flops=3e10),
                        calibration=str(tmp_path / "calibration.json"))
    assert rich.single is None and rich.params["pilot"] == 4 and rich.uses_verifier


def test_oracle_bins_need_no_pilot_and_other_splits_are_other_problems(runs):
    loaded = [load_run(r) for r in runs]
    oracle, _ = calibrate(loaded, [TASK], difficulty="oracle", bins=2, budgets=[3e10])
    assert oracle.pilot == {} and oracle.table[0][0].cost == pytest.approx(
        PREFILL + SAMPLE_FLOPS)
    other, _ = calibrate(loaded, [TASK], difficulty="oracle", bins=2, budgets=[3e10], seed=4)
    assert oracle.split["calibration"] != other.split["calibration"]


def test_the_cli_writes_the_file_and_the_evaluation_side_for_lm_eval(runs, tmp_path, bin_dir):
    out = tmp_path / "cal" / "calibration.json"
    proc = subprocess.run([str(bin_dir / "tts-eval"), "calibrate", *map(str, runs), "--out",
                           str(out), "--bins", "2", "--folds", "2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "compute-optimal, out of fold" in proc.stdout and "bin 2" in proc.stdout
    calibration = Calibration.load(out)
    assert len(calibration.budgets) == 8 and calibration.unit == "flops"
    samples = json.loads(out.with_suffix(".eval_samples.json").read_text())
    assert samples == calibration.split["evaluation"] and len(samples[TASK]) == 20
    bad = subprocess.run([str(bin_dir / "tts-eval"), "calibrate", str(runs[0]), "--out",
                          str(out), "--folds", "1"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "--folds 1: give 0 (none) or at least 2" in bad.stderr


def test_adaptive_refuses_what_it_cannot_run(runs, tmp_path):
    loaded = [load_run(r) for r in runs]
    predicted, _ = calibrate(loaded, [TASK], bins=2, budgets=[6e9, 3e10])
    predicted.save(tmp_path / "predicted.json")
    oracle, _ = calibrate(loaded, [TASK], difficulty="oracle", bins=2, budgets=[3e10])
    oracle.save(tmp_path / "oracle.json")
    with pytest.raises(ValueError, match="needs gold answers at test time"):
        get_strategy("adaptive", budget=Budget(flops=3e10),
                     calibration=str(tmp_path / "oracle.json"))
    with pytest.raises(BudgetError, match="counts flops: give budget_flops="):
        get_strategy("adaptive", budget=Budget(tokens=1000),
                     calibration=str(tmp_path / "predicted.json"))
    with pytest.raises(BudgetError, match="below the smallest calibrated budget"):
        get_strategy("adaptive", budget=Budget(flops=1e9),
                     calibration=str(tmp_path / "predicted.json"))
    with pytest.raises(CalibrationError, match="no such file"):
        get_strategy("adaptive", budget=Budget(flops=1e9), calibration=str(tmp_path / "x"))
    adaptive = get_strategy("adaptive", budget=Budget(flops=3e10),
                            calibration=str(tmp_path / "predicted.json"))
    assert adaptive.uses_verifier  # the search it may choose reads the verifier
    assert np.isclose(adaptive.limit, 3e10)


def test_verifier_difficulty_bins_by_the_pilots_mean_score(tmp_path):
    """A best-of-n run whose verifier scored every sample: the pilot's mean score bins."""
    records = []
    for doc_id in range(PROBLEMS):
        score = 0.9 if _easy(doc_id) else 0.2
        record = _record("best_of_n", {"n": 4, "aggregate": "min"}, ["5"] * 4, 0,
                         PREFILL + 4 * SAMPLE_FLOPS)
        for sample in record.samples:
            sample.score = score
        records.append(record)
    run = _write(tmp_path / "bon4", records, {"strategy": "best_of_n", "verifier": "toy-prm",
                                              "aggregate": "min"})
    calibration, _ = calibrate([load_run(run)], [TASK], difficulty="verifier", bins=2,
                               budgets=[1e10])
    assert calibration.edges == [pytest.approx(0.55)]
    assert calibration.pilot["aggregate"] == "min" and calibration.pilot["n"] == 4
    labels = {setting.label for setting in calibration.settings}
    assert "best_of_n(aggregate=min, n=4)" in labels  # with the run's own arguments
    with pytest.raises(Exception, match="verifier scores on every sample"):
        for sample in records[0].samples:
            sample.score = None
        calibrate([load_run(_write(tmp_path / "unscored", records,
                                   {"strategy": "best_of_n"}))], [TASK], difficulty="verifier")
