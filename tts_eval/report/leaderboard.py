"""Leaderboard entries from finished runs: one validated JSON entry per (run, task), and
ranked tables of them (Markdown, CSV, JSON; the HTML page is ``leaderboard_html.py``).

An entry states the task and what makes it comparable (hashes of the documents and the
prompts, from lm-eval's per-sample ``doc_hash`` / ``prompt_hash``), the model, the strategy
with every argument it recorded, the verifier, accuracy with a bootstrap interval over
problems, tokens and FLOPs per problem (generator, verifier, total; mean and p95), samples
per problem, seeds, versions and a hash of the config. Entries are checked against the
versioned JSON Schema (``leaderboards/schema/entry-v1.schema.json``) when written and when
read. Entries whose documents or prompts differ are never ranked together: each
(task, dataset hash, prompt hash) is its own table.

Machine-specific paths never enter an entry: a local model directory is named by its
folder name, and absolute paths inside hashed configs are reduced to their last part, so
the same runs give the same tables on any machine.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from tts_eval.report.curves import bootstrap_interval
from tts_eval.report.runs import ProblemResult, Run, require_flops

SCHEMA_FILE = "entry-v1.schema.json"
_PACKAGE = Path(__file__).resolve().parents[1]
_INSTALLED = _PACKAGE / "_leaderboard_schema"  # where a wheel ships leaderboards/schema
SCHEMA_DIR = _INSTALLED if _INSTALLED.is_dir() else _PACKAGE.parent / "leaderboards" / "schema"
CONFIDENCE = 0.95


class EntryError(ValueError):
    """A leaderboard entry that does not follow the schema; the message names the field."""


@cache
def _validator():
    import jsonschema

    schema = json.loads((SCHEMA_DIR / SCHEMA_FILE).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_entry(entry: dict[str, Any], where: str = "entry") -> None:
    """Raise EntryError naming the first field that breaks the schema."""
    errors = sorted(_validator().iter_errors(entry), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        field = ".".join(str(part) for part in error.absolute_path) or "(the entry itself)"
        raise EntryError(f"{where}: field {field}: {error.message}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _portable(value: Any) -> Any:
    """``value`` with absolute paths reduced to their last part (recursively)."""
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_portable(v) for v in value]
    if isinstance(value, str) and value.startswith("/") and len(Path(value).parts) > 1:
        return Path(value).name
    return value


def model_id(name: str | None) -> str:
    """An HF id as it is; a local directory by its folder name (no machine paths)."""
    if not name:
        return "unknown"
    return Path(name).name if name.startswith(("/", ".", "~")) else name


def _summary(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "p95": float(np.percentile(values, 95))}


def _split_cost(generator: list[float], verifier: list[float]) -> dict[str, Any]:
    total = [g + v for g, v in zip(generator, verifier, strict=True)]
    return {"generator": _summary(generator), "verifier": _summary(verifier),
            "total": _summary(total)}


def _hash_lines(parts: dict[str, list[ProblemResult]], attribute: str) -> str:
    lines = []
    for task, problems in sorted(parts.items()):
        for p in sorted(problems, key=lambda p: p.doc_id):
            value = getattr(p, attribute)
            if value is None and attribute == "doc_hash":  # an older file: the document
                value = _sha256(json.dumps(p.doc, sort_keys=True, default=str))
            lines.append(f"{task}:{p.doc_id}:{value}")
    return _sha256("\n".join(lines))


def task_groups(run: Run) -> dict[str, list[str]]:
    """lm-eval groups of the run (``arith_tts``: its five levels, ``tts_core``: its four
    tasks) with at least two of their tasks in the run, for pooled rows."""
    groups = run.results.get("group_subtasks") or {}
    out = {}
    for group, subtasks in groups.items():
        present = sorted(t for t in subtasks if t in run.tasks)
        if len(present) >= 2 and group not in run.tasks:
            out[group] = present
    return out


def build_entry(run: Run, task: str, subtasks: list[str] | None = None) -> dict[str, Any]:
    """The leaderboard entry of ``task`` in ``run`` (validated); a group's entry pools the
    problems of its ``subtasks`` (each problem weighs the same, as lm-eval's group means)."""
    parts = {t: run.tasks[t] for t in (subtasks or [task])}
    require_flops(run, parts)  # every row states what it spent
    problems = [p for t in sorted(parts) for p in parts[t]]
    config = run.config
    model_args = dict(config.get("model_args") or {})
    records = [p.record for p in problems]
    first = records[0]
    right = np.array([[float(p.chosen_right)] for p in problems])
    low, high = bootstrap_interval(right, 1 - CONFIDENCE)
    generator_tokens, verifier_tokens, generator_flops, verifier_flops = [], [], [], []
    for record in records:
        cost = record.cost
        generator_tokens.append(float(record.prompt_tokens + record.completion_tokens))
        verifier_tokens.append(float(cost.verifier_tokens) if cost else 0.0)
        generator_flops.append(float(cost.generator_flops) if cost else 0.0)
        verifier_flops.append(float(cost.verifier_flops) if cost else 0.0)
    verifier = model_args.get("verifier")
    params_total = config.get("model_num_parameters") or (first.model and first.model.params_total)
    params_active = (config.get("model_num_parameters_active")
                     or (first.model and first.model.params_active))
    hashed = {"model_args": {**model_args, "pretrained": model_id(model_args.get("pretrained"))},
              "gen_kwargs": config.get("gen_kwargs"),
              "task": {t: (run.results.get("configs") or {}).get(t) for t in sorted(parts)}}
    entry = {
        "schema_version": 1,
        "run": {"name": run.name, "date": None if run.results.get("date") is None
                else str(run.results["date"])},
        "task": {"name": task, "n_problems": len(problems)},
        "dataset": {"hash": _hash_lines(parts, "doc_hash"),
                    "prompt_hash": _hash_lines(parts, "prompt_hash"),
                    "lm_eval_task_hash": (run.results.get("task_hashes") or {}).get(task)},
        "model": {"id": model_id(model_args.get("pretrained") or config.get("model_name")),
                  "revision": model_args.get("revision") or config.get("model_revision"),
                  "params_total": int(params_total) if params_total else None,
                  "params_active": int(params_active) if params_active else None},
        "strategy": {"name": first.strategy, "args": _portable(first.params),
                     "budget_tokens": model_args.get("budget_tokens"),
                     "budget_flops": model_args.get("budget_flops")},
        "verifier": None if not verifier else {
            "name": verifier, "model": model_id(model_args.get("verifier_model"))
            if model_args.get("verifier_model") else None},
        "metrics": [{"type": "acc", "value": float(right.mean()),
                     "interval": [float(low[0]), float(high[0])], "confidence": CONFIDENCE,
                     "method": "bootstrap over problems (1000 resamples)"}],
        "cost": {"tokens": _split_cost(generator_tokens, verifier_tokens),
                 "flops": _split_cost(generator_flops, verifier_flops)},
        "samples_per_problem": float(np.mean([len(r.samples) for r in records])),
        "seeds": [int(model_args.get("seed", 0))],
        "versions": {"tts_eval": config.get("tts_eval_version"),
                     "lm_eval": run.results.get("lm_eval_version"),
                     "vllm": config.get("vllm_version"),
                     "transformers": run.results.get("transformers_version")},
        "config_hash": _sha256(json.dumps(_portable(hashed), sort_keys=True, default=str)),
    }
    validate_entry(entry, f"{run.name} / {task}")
    return entry


def entries_from_runs(runs: list[Run], tasks: list[str] | None = None) -> list[dict[str, Any]]:
    """An entry per task of each run, and a pooled one per lm-eval group it ran."""
    entries = []
    for run in runs:
        named = [(task, None) for task in sorted(run.tasks)]
        named += sorted(task_groups(run).items())
        entries += [build_entry(run, name, subtasks) for name, subtasks in named
                    if tasks is None or name in tasks]
    return entries


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Entries from a leaderboard JSON file, each validated (a broken one names its field)."""
    data = json.loads(Path(path).read_text())
    entries = [e for board in data["boards"] for e in board["entries"]]
    for i, entry in enumerate(entries):
        validate_entry(entry, f"{path} entry {i}")
    return entries


@dataclass
class Board:
    """One ranked table: entries of one task on the same documents and prompts."""

    task: str
    dataset_hash: str
    prompt_hash: str
    entries: list[dict[str, Any]]
    pareto: list[bool]

    @property
    def key(self) -> str:
        return f"{self.task}-{self.dataset_hash[:8]}-{self.prompt_hash[:8]}"


def accuracy(entry: dict[str, Any]) -> float:
    return entry["metrics"][0]["value"]


def total_flops(entry: dict[str, Any]) -> float:
    return entry["cost"]["flops"]["total"]["mean"]


def boards(entries: list[dict[str, Any]]) -> list[Board]:
    """Ranked tables: by accuracy (ties: fewer FLOPs first), Pareto-optimal rows marked
    (no other row is at least as accurate for no more FLOPs per problem)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for entry in entries:
        key = (entry["task"]["name"], entry["dataset"]["hash"], entry["dataset"]["prompt_hash"])
        groups.setdefault(key, []).append(entry)
    out = []
    for (task, dataset_hash, prompt_hash), group in sorted(groups.items()):
        group.sort(key=lambda e: (-accuracy(e), total_flops(e), e["run"]["name"]))
        pareto = [not any((accuracy(o) >= accuracy(e) and total_flops(o) <= total_flops(e))
                          and (accuracy(o) > accuracy(e) or total_flops(o) < total_flops(e))
                          for o in group) for e in group]
        out.append(Board(task, dataset_hash, prompt_hash, group, pareto))
    return out


def strategy_label(entry: dict[str, Any]) -> str:
    args = entry["strategy"]["args"]
    label = entry["strategy"]["name"]
    budget = entry["strategy"].get("budget_tokens") or entry["strategy"].get("budget_flops")
    # with a budget, n is only a cap: the budget is what sets the compute
    extras = [f"n={args['n']}"] if args.get("n") not in (None, 1) and not budget else []
    extras += [f"{k}={args[k]}" for k in ("beam_width", "lookahead", "revisions",
                                          "max_thinking_tokens", "num_ignore") if args.get(k)]
    if budget:
        unit = "tokens" if entry["strategy"].get("budget_tokens") else "FLOPs"
        extras.append(f"budget={budget:g} {unit}")
    return f"{label} ({', '.join(extras)})" if extras else label


COLUMNS = ["rank", "model", "strategy", "verifier", "acc %", "95% CI", "problems",
           "tokens/problem", "FLOPs/problem", "verifier FLOPs", "samples", "Pareto", "run"]


def rows(board: Board) -> list[list[Any]]:
    out = []
    for rank, (entry, front) in enumerate(zip(board.entries, board.pareto, strict=True), 1):
        metric = entry["metrics"][0]
        verifier = entry["verifier"]
        out.append([
            rank, entry["model"]["id"], strategy_label(entry),
            "" if verifier is None else verifier["name"],
            f"{100 * metric['value']:.1f}",
            f"{100 * metric['interval'][0]:.1f}-{100 * metric['interval'][1]:.1f}",
            entry["task"]["n_problems"], f"{entry['cost']['tokens']['total']['mean']:.0f}",
            f"{total_flops(entry):.3e}", f"{entry['cost']['flops']['verifier']['mean']:.3e}",
            f"{entry['samples_per_problem']:g}", "yes" if front else "", entry["run"]["name"]])
    return out


def markdown(board_list: list[Board]) -> str:
    parts = []
    for board in board_list:
        heading = f"## {board.task}"
        if sum(b.task == board.task for b in board_list) > 1:
            heading += (f" (documents {board.dataset_hash[:8]}, prompts "
                        f"{board.prompt_hash[:8]}: not comparable with the other {board.task} "
                        "tables)")
        table = tabulate(rows(board), headers=COLUMNS, tablefmt="github",
                         disable_numparse=True)
        parts.append(f"{heading}\n\n{table}\n")
    return "\n".join(parts)


def csv_text(board_list: list[Board]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["task", "dataset_hash", "prompt_hash", *COLUMNS])
    for board in board_list:
        for row in rows(board):
            writer.writerow([board.task, board.dataset_hash, board.prompt_hash, *row])
    return buffer.getvalue()


def json_text(board_list: list[Board]) -> str:
    data = {"schema": f"leaderboards/schema/{SCHEMA_FILE}",
            "boards": [{"task": b.task, "dataset_hash": b.dataset_hash,
                        "prompt_hash": b.prompt_hash, "pareto": b.pareto,
                        "entries": b.entries} for b in board_list]}
    return json.dumps(data, indent=1, sort_keys=True) + "\n"
