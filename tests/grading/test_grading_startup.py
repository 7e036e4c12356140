"""Grading start-up costs what it must: workers start only for symbolic work, as few as it
needs, and the warm-up corpus is parsed only by a zygote started ahead of need.

Each case runs in a fresh interpreter, since the pool is per process.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, sys
from tts_eval.grading import grade_many, warm_up
from tts_eval.grading.pool import get_pool
pairs = json.load(sys.stdin)
if sys.argv[1] == "warm":
    warm_up()
grades = grade_many(pairs)
pool = get_pool()
zygote = pool._zygote
print(json.dumps({
    "correct": [g.correct for g in grades],
    "reasons": [g.reason for g in grades],
    "stats": pool.stats,
    "zygote_args": zygote.process.args[4:] if zygote else None,
}))
"""


def run(pairs: list[tuple[str, str]], mode: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, mode], input=json.dumps(pairs),
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(proc.stdout)


def test_answers_decided_in_process_start_no_worker() -> None:
    """Exact and normalised matches, plain numbers, and values that differ: 3,000 pairs,
    not one process started."""
    pairs = [(f"So the answer is $\\boxed{{{n}}}$.", str(n)) for n in range(1000)]
    pairs += [(f"\\boxed{{\\dfrac{{{n}}}{{7}}}}", f"\\frac{{{n}}}{{7}}") for n in range(1000)]
    pairs += [(f"\\boxed{{{n}\\sqrt{{2}}}}", f"{n + 1}\\sqrt{{3}}") for n in range(1000)]
    out = run(pairs)
    assert out["correct"] == [True] * 2000 + [False] * 1000
    assert out["stats"]["zygotes"] == 0 and out["stats"]["started"] == 0
    assert out["zygote_args"] is None


def test_a_few_symbolic_pairs_start_one_worker_without_the_corpus() -> None:
    pairs = [(r"\boxed{\sqrt{48}}", r"4\sqrt{3}"), (r"\boxed{\sin^2 x+\cos^2 x}", "1")]
    pairs += [(f"\\boxed{{{n}}}", str(n)) for n in range(500)]
    out = run(pairs)
    assert all(out["correct"])
    assert out["reasons"][:2] == ["equivalent (symbolic)"] * 2
    assert out["stats"]["zygotes"] == 1 and out["stats"]["started"] == 1
    assert out["zygote_args"] == []  # started because needed now: no warm-up corpus


def test_warm_up_starts_a_zygote_that_parses_the_corpus() -> None:
    out = run([(r"\boxed{\sqrt{48}}", r"4\sqrt{3}")], "warm")
    assert out["correct"] == [True]
    assert out["zygote_args"] == ["warm"]


def test_lazy_imports_happen_at_start_not_inside_a_comparison() -> None:
    """After a worker's start-up imports, comparing the warm-up corpus (relations, sets,
    intervals, matrices) imports nothing more: no comparison pays for an import inside its
    deadline."""
    code = r"""
import sys
from tts_eval.grading import worker
worker._harden(); worker._operations(); worker.import_lazy_modules()
before = set(sys.modules)
worker.parse_warm_up_corpus()
heavy = ("sympy", "antlr4", "latex2sympy2_extended", "math_verify")
print(sorted(m for m in set(sys.modules) - before if m.startswith(heavy)))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert proc.stdout.strip() == "[]"
