"""Say whether two evaluations produced the same numbers and the same TTS records.

A refactor must not change results: run the same command before and after (for example
``tts-eval demo --out A`` and ``--out B``) and compare. For every lm-eval output folder
under A (a folder with ``results_*.json``) the folder at the same relative path under B
(lm-eval's model-named subfolder aside) must hold the same metric values (``results`` and
``groups``) and, per task, the same samples (``doc_id``, ``resps``, ``filtered_resps`` and
the metric fields). Timestamps, timings and environment fields are ignored. Exit status 0
when identical, 1 otherwise.

    python benchmarks/diff_runs.py A B
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

SAMPLE_FIELDS = ("doc_id", "resps", "filtered_resps", "target")
_STAMP = re.compile(r"_\d{4}-\d{2}-\d{2}T[\d.-]+\.jsonl?$")


def _output_dirs(root: Path) -> dict[Path, Path]:
    """Each folder holding a results file, keyed by the ``--output_path`` it was written to
    (lm-eval adds a folder named after the model, which may differ between the two sides),
    or by its own path when one output path holds several models."""
    folders = sorted({p.parent for p in root.rglob("results_*.json")})
    by_output = {f.parent.relative_to(root): f for f in folders}
    if len(by_output) == len(folders):
        return by_output
    return {f.relative_to(root): f for f in folders}


def _newest(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def _samples(folder: Path) -> dict[str, list[dict]]:
    """Per task (file name without its timestamp): the sample lines, by doc_id."""
    found: dict[str, list[dict]] = {}
    for path in _newest(folder, "samples_*.jsonl"):
        task = _STAMP.sub("", path.name)
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        found[task] = sorted(lines, key=lambda line: line["doc_id"])
    return found


def _kept(line: dict, metrics: set[str]) -> dict:
    return {k: v for k, v in line.items() if k in SAMPLE_FIELDS or k in metrics}


def diff_output(a: Path, b: Path) -> list[str]:
    """What differs between two lm-eval output folders (empty when identical)."""
    problems = []
    results_a = json.loads(_newest(a, "results_*.json")[-1].read_text())
    results_b = json.loads(_newest(b, "results_*.json")[-1].read_text())
    for section in ("results", "groups"):
        sa, sb = results_a.get(section, {}), results_b.get(section, {})
        for task in sorted(set(sa) | set(sb)):
            if sa.get(task) != sb.get(task):
                keys = sorted(k for k in set(sa.get(task, {})) | set(sb.get(task, {}))
                              if sa.get(task, {}).get(k) != sb.get(task, {}).get(k))
                problems.append(f"{section}[{task}] differs in {', '.join(keys)}")
    samples_a, samples_b = _samples(a), _samples(b)
    for task in sorted(set(samples_a) | set(samples_b)):
        if task not in samples_a or task not in samples_b:
            problems.append(f"samples of {task} exist on one side only")
            continue
        metrics = set(results_a.get("higher_is_better", {}).get(task.removeprefix(
            "samples_").removesuffix(".jsonl"), {}))
        lines_a = [_kept(x, metrics) for x in samples_a[task]]
        lines_b = [_kept(x, metrics) for x in samples_b[task]]
        if len(lines_a) != len(lines_b):
            problems.append(f"{task}: {len(lines_a)} vs {len(lines_b)} samples")
            continue
        changed = [x["doc_id"] for x, y in zip(lines_a, lines_b, strict=True) if x != y]
        if changed:
            problems.append(f"{task}: {len(changed)} samples differ (doc_ids {changed[:5]})")
    return problems


def diff_trees(a: Path, b: Path) -> list[str]:
    """What differs between every output folder under ``a`` and its twin under ``b``."""
    outputs_a, outputs_b = _output_dirs(a), _output_dirs(b)
    if not outputs_a:
        return [f"{a}: no results_*.json under it"]
    problems = [f"{rel}: only under {a if rel in outputs_a else b}"
                for rel in sorted(set(outputs_a) ^ set(outputs_b))]
    for rel in sorted(set(outputs_a) & set(outputs_b)):
        problems += [f"{rel}: {p}" for p in diff_output(outputs_a[rel], outputs_b[rel])]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare the results of two evaluations.")
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    problems = diff_trees(args.a, args.b)
    count = len(_output_dirs(args.a))
    if problems:
        print("\n".join(problems))
        print(f"DIFFERENT: {len(problems)} difference(s) over {count} run folder(s)")
        return 1
    print(f"IDENTICAL: {count} run folder(s), every metric and every sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
