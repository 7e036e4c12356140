"""Leaderboards: schema-validated entries, ranking and Pareto marks, incomparable runs kept
apart, the files ``tts-eval leaderboard`` writes, and its HTML page in headless Chromium."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tts_eval.accounting import Cost
from tts_eval.records import SampleRecord, TTSRecord
from tts_eval.report.leaderboard import (
    EntryError,
    boards,
    entries_from_runs,
    read_entries,
    validate_entry,
)
from tts_eval.report.runs import load_run


def write_run(folder: Path, model: str, strategy: str, right: list[bool], *, n: int = 4,
              flops: float = 1e9, prompt: str = "p", verifier: str | None = None) -> Path:
    """A finished run: results JSON (config as lm-eval writes it) and samples."""
    folder.mkdir(parents=True)
    lines = []
    for doc_id, ok in enumerate(right):
        answer = "5" if ok else "4"
        record = TTSRecord(
            strategy=strategy, params={"n": n, "temperature": 0.8}, answer_kind="math",
            seed=doc_id, samples=[SampleRecord(f"\\boxed{{{answer}}}", answer, 10, 20, "stop",
                                               score=0.5 if verifier else None)] * n,
            chosen_index=0, chosen_answer=answer, prompt_tokens=10, cached_prompt_tokens=0,
            cost=Cost(prompt_tokens=10, completion_tokens=20 * n, generator_flops=flops,
                      verifier_tokens=40 if verifier else 0,
                      verifier_flops=flops / 10 if verifier else 0.0))
        lines.append(json.dumps({"doc_id": doc_id, "target": "5", "doc": {"q": doc_id},
                                 "doc_hash": f"{doc_id:064x}", "prompt_hash": f"{prompt}{doc_id}",
                                 "resps": [[record.to_json()]]}))
    (folder / "samples_math500_tts_2026-01-01T00-00-00.000000.jsonl").write_text(
        "\n".join(lines))
    model_args = {"pretrained": model, "strategy": strategy, "n": n, "seed": 0,
                  **({"verifier": verifier, "verifier_model": "/abs/path/prm"} if verifier
                     else {})}
    (folder / "results_2026-01-01T00-00-00.000000.json").write_text(json.dumps({
        "config": {"model": "tts-vllm", "model_args": model_args, "tts_eval_version": "0.1.0",
                   "vllm_version": "0.32.0", "model_num_parameters": 1000,
                   "model_num_parameters_active": 900},
        "configs": {"math500_tts": {"task": "math500_tts"}}, "lm_eval_version": "0.4.13",
        "task_hashes": {"math500_tts": "abc"}, "date": 1.0}))
    return folder


@pytest.fixture
def runs(tmp_path):
    return [
        write_run(tmp_path / "a-greedy", "org/model-a", "greedy", [True] * 6 + [False] * 4,
                  n=1, flops=1e9),
        write_run(tmp_path / "a-majority", "org/model-a", "majority", [True] * 8 + [False] * 2,
                  flops=4e9),
        write_run(tmp_path / "b-best", "/home/me/ckpt/model-b", "best_of_n",
                  [True] * 7 + [False] * 3, flops=6e9, verifier="toy-prm"),  # dominated
        write_run(tmp_path / "c-other-prompt", "org/model-c", "greedy", [True] * 10,
                  n=1, prompt="q"),
    ]


def test_entries_follow_the_schema_and_name_what_they_measured(runs):
    entries = entries_from_runs([load_run(r) for r in runs])
    best = next(e for e in entries if e["run"]["name"] == "b-best")
    assert best["model"] == {"id": "model-b", "revision": None, "params_total": 1000,
                             "params_active": 900}  # a local path: no machine path kept
    assert best["verifier"] == {"name": "toy-prm", "model": "prm"}
    assert best["metrics"][0]["value"] == 0.7
    low, high = best["metrics"][0]["interval"]
    assert 0.3 < low < 0.7 < high <= 1.0
    assert best["cost"]["flops"]["total"]["mean"] == pytest.approx(6.6e9)
    assert best["cost"]["tokens"]["verifier"] == {"mean": 40.0, "p95": 40.0}
    assert best["versions"]["vllm"] == "0.32.0" and best["samples_per_problem"] == 4
    assert best["strategy"]["args"] == {"n": 4, "temperature": 0.8}
    same_docs = {e["dataset"]["hash"] for e in entries}
    assert len(same_docs) == 1 and len({e["dataset"]["prompt_hash"] for e in entries}) == 2


@pytest.mark.parametrize(("break_it", "field"), [
    (lambda e: e["metrics"][0].update(value=1.5), "metrics.0.value"),
    (lambda e: e.pop("config_hash"), "'config_hash' is a required property"),
    (lambda e: e["task"].update(n_problems=0), "task.n_problems"),
])
def test_a_broken_entry_is_an_error_naming_its_field(runs, break_it, field):
    entry = copy.deepcopy(entries_from_runs([load_run(runs[0])])[0])
    validate_entry(entry)
    break_it(entry)
    with pytest.raises(EntryError, match=field.replace("'", ".")):
        validate_entry(entry)


def test_boards_rank_by_accuracy_mark_pareto_rows_and_keep_other_prompts_apart(runs):
    board_list = boards(entries_from_runs([load_run(r) for r in runs]))
    assert len(board_list) == 2  # the run with other prompts is never ranked with the rest
    main = next(b for b in board_list if len(b.entries) == 3)
    assert [e["run"]["name"] for e in main.entries] == ["a-majority", "b-best", "a-greedy"]
    # b-best: less accurate and costlier than a-majority
    assert main.pareto == [True, False, True]


def test_leaderboard_command_writes_tables_that_read_back(runs, tmp_path, bin_dir):
    out = tmp_path / "board"
    proc = subprocess.run([str(bin_dir / "tts-eval"), "leaderboard", *map(str, runs), "--out",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {"math500_tts.md", "math500_tts.csv",
                                               "math500_tts.json", "index.html"}
    md = (out / "math500_tts.md").read_text()
    assert md.count("## math500_tts") == 2 and "not comparable" in md
    assert re.search(r"\| 1 +\| org/model-a +\| majority \(n=4\) +\|", md)
    assert len(read_entries(out / "math500_tts.json")) == 4
    csv_lines = (out / "math500_tts.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and csv_lines[0].startswith("task,dataset_hash,prompt_hash,rank")
    # the same runs give the same files, byte for byte (the committed leaderboards rely on it)
    again = tmp_path / "again"
    subprocess.run([str(bin_dir / "tts-eval"), "leaderboard", *map(str, runs), "--out",
                    str(again)], check=True, capture_output=True)
    for path in out.iterdir():
        assert path.read_bytes() == (again / path.name).read_bytes(), path.name


def test_a_json_file_with_a_broken_entry_names_it(runs, tmp_path, bin_dir):
    out = tmp_path / "board"
    subprocess.run([str(bin_dir / "tts-eval"), "leaderboard", str(runs[0]), "--out", str(out)],
                   check=True, capture_output=True)
    data = json.loads((out / "math500_tts.json").read_text())
    data["boards"][0]["entries"][0]["cost"]["flops"]["total"]["mean"] = -1
    (out / "math500_tts.json").write_text(json.dumps(data))
    with pytest.raises(EntryError, match="entry 0: field cost.flops.total.mean"):
        read_entries(out / "math500_tts.json")


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
def test_the_html_page_sorts_and_filters_in_headless_chromium(runs, tmp_path, bin_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out = tmp_path / "board"
    subprocess.run([str(bin_dir / "tts-eval"), "leaderboard", *map(str, runs[:3]), "--out",
                    str(out)], check=True, capture_output=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get((out / "index.html").as_uri())
        (table,) = driver.find_elements(By.CSS_SELECTOR, "table")

        def column(name):
            headers = [th.text.strip(" ▲▼") for th in table.find_elements(By.TAG_NAME, "th")]
            index = headers.index(name)
            return [tr.find_elements(By.TAG_NAME, "td")[index].text
                    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

        assert column("run") == ["a-majority", "b-best", "a-greedy"]  # ranked on load
        assert driver.find_element(By.CSS_SELECTOR, ".plot svg")  # the plot, inline
        header = next(th for th in table.find_elements(By.TAG_NAME, "th") if th.text == "acc %")
        header.click()
        assert column("acc %") == ["60.0", "70.0", "80.0"]
        header.click()
        assert column("acc %") == ["80.0", "70.0", "60.0"]
        Select(driver.find_element(By.ID, "filter-model")).select_by_visible_text("org/model-a")
        assert column("run") == ["a-majority", "a-greedy"]
        budget = driver.find_element(By.ID, "filter-budget")
        budget.send_keys("2e9")
        assert column("run") == ["a-greedy"]
        assert "1 of 3 rows" in driver.find_element(By.CSS_SELECTOR, ".hashes").text
    finally:
        driver.quit()
