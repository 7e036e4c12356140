"""benchmarks/diff_runs.py: the check that a refactor left every number and record alone."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "diff_runs.py"
spec = importlib.util.spec_from_file_location("diff_runs", SCRIPT)
diff_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diff_runs)


def write_run(root: Path, model_folder: str, stamp: str, acc: float, resp: str) -> None:
    out = root / "small-majority4" / model_folder
    out.mkdir(parents=True)
    (out / f"results_{stamp}.json").write_text(json.dumps({
        "results": {"arith_tts_l1": {"acc,none": acc}},
        "higher_is_better": {"arith_tts_l1": {"acc": True}},
        "date": stamp,
    }))
    lines = [{"doc_id": i, "resps": [[resp if i == 1 else "r"]], "filtered_resps": ["r"],
              "acc": 1.0, "doc_hash": stamp} for i in range(3)]
    (out / f"samples_arith_tts_l1_{stamp}.jsonl").write_text(
        "\n".join(json.dumps(line) for line in lines))


def test_identical_runs_match_whatever_their_folder_names_and_dates(tmp_path):
    write_run(tmp_path / "a", "qouslm4j", "2026-12-01T10-00-00.1", 0.5, "same")
    write_run(tmp_path / "b", "__models__small", "2026-12-02T11-00-00.2", 0.5, "same")
    assert diff_runs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0


def test_a_changed_metric_or_record_is_named(tmp_path, capsys):
    write_run(tmp_path / "a", "m", "2026-12-01T10-00-00.1", 0.5, "same")
    write_run(tmp_path / "b", "m", "2026-12-01T10-00-00.1", 0.25, "other")
    assert diff_runs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "results[arith_tts_l1] differs in acc,none" in out
    assert "1 samples differ (doc_ids [1])" in out
