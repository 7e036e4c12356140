"""Read finished lm-eval runs (results JSON + ``--log_samples`` JSONL) back into records.

Everything after generation (scaling curves, equal-FLOPs matching, leaderboards) reads
runs through here, so it needs no GPU and never generates again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tts_eval.metrics import record_verdicts
from tts_eval.records import TTSRecord, parse_record


class RunError(ValueError):
    """A run directory or file that cannot be read; the message names it and the fix."""


@dataclass
class ProblemResult:
    """One problem of a run: its TTS record and gold answer."""

    doc_id: int
    gold: str
    record: TTSRecord
    doc: dict[str, Any] = field(default_factory=dict)
    doc_hash: str | None = None  # lm-eval's hashes of the document and the prompt sent:
    prompt_hash: str | None = None  # two runs are comparable only where both agree

    @cached_property
    def verdicts(self) -> tuple[list[bool], list[int], list[bool]]:
        """``record_verdicts`` of the record, graded once however many tables and curves
        (a pooled row, per-level rows, a scaling curve) read this problem."""
        return record_verdicts(self.record, self.gold)

    @property
    def chosen_right(self) -> bool:
        """Is the answer the strategy chose right (lm-eval's ``acc``)?"""
        correct, _, _ = self.verdicts
        chosen = self.record.chosen_index
        return chosen is not None and correct[chosen]

    @property
    def spent(self) -> tuple[float, float]:
        """Tokens and FLOPs this problem cost, generator and verifier (a plain-text record
        from another model: its tokens, FLOPs unknown as 0)."""
        record, cost = self.record, self.record.cost
        if cost is None:
            return float(record.prompt_tokens + record.completion_tokens), 0.0
        return float(cost.total_tokens), float(cost.total_flops)


@dataclass
class Run:
    """One lm-eval run: its name, config and the records of each task."""

    name: str
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, list[ProblemResult]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)  # lm-eval's whole results JSON


def require_flops(run: Run, tasks: Iterable[str] | None = None) -> Run:
    """``run``, when every problem of ``tasks`` (default: all) states its FLOPs; else a
    RunError naming the fix. Tables, curves and matches that rank by FLOPs call this:
    a run whose model had no config here recorded its FLOPs as unknown."""
    for task in run.tasks if tasks is None else tasks:
        if any(math.isnan(problem.spent[1]) for problem in run.tasks.get(task, [])):
            raise RunError(
                f"{run.path}: task {task} has unknown FLOPs (its model's config was not "
                "there when it ran); run the same lm_eval command again with "
                "model_config=PATH (the model's config.json): its run store replays every "
                "sample, nothing is generated again"
            )
    return run


def _task_of(samples_file: Path) -> str:
    # lm-eval names them samples_<task>_<ISO timestamp>.jsonl
    return samples_file.name[len("samples_"):].rsplit("_", 1)[0]


def load_run(path: str | Path) -> Run:
    """A run from an lm-eval ``--output_path`` directory (or any folder below it)."""
    root = Path(path)
    if not root.exists():
        raise RunError(f"{root}: no such run directory; pass an lm-eval --output_path folder")
    files = sorted(root.rglob("samples_*.jsonl")) if root.is_dir() else [root]
    if not files:
        raise RunError(f"{root}: no samples_*.jsonl found; run lm_eval with --log_samples")
    run = Run(name=root.name, path=root)
    results = sorted(root.rglob("results_*.json")) if root.is_dir() else []
    if results:
        data = json.loads(results[-1].read_text())
        run.config = data.get("config", {})
        run.results = data
    latest: dict[str, Path] = {}
    for file in files:  # a folder holding several runs of one task: keep the newest
        latest[_task_of(file)] = file
    for task, file in sorted(latest.items()):
        run.tasks[task] = _read_samples(file)
    return run


def _read_samples(file: Path) -> list[ProblemResult]:
    problems = []
    for line_no, line in enumerate(file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            response = row["resps"][0][0]
            gold = str(row["target"])
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise RunError(f"{file}:{line_no}: not an lm-eval sample line ({exc!r})") from None
        record = parse_record(response)
        if record is None:
            raise RunError(f"{file}:{line_no}: the response is not a TTS record; only runs of "
                           "tts-vllm on the *_tts tasks carry the samples this needs")
        problems.append(ProblemResult(int(row.get("doc_id", line_no - 1)), gold, record,
                                      row.get("doc") or {}, row.get("doc_hash"),
                                      row.get("prompt_hash")))
    return problems
