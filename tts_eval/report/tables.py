"""Leaderboard rows and scaling plots from finished runs: accuracy next to its cost.

Every row states what it bought (accuracy) and what it spent (tokens and FLOPs per
problem, the generator's active parameters), read from the runs' TTS records only.
"""

from __future__ import annotations

from dataclasses import dataclass

from tts_eval.metrics import score_record
from tts_eval.report.runs import ProblemResult, Run


@dataclass(frozen=True)
class Row:
    run: str
    task: str
    strategy: str
    n: int
    problems: int
    params_active: int
    accuracy: float
    tokens: float
    flops: float


def row_for(run: Run, task: str, problems: list[ProblemResult]) -> Row:
    """The run's own result on ``task``: its strategy's chosen answers and full cost."""
    scores = [score_record(p.record, p.gold, p.verdicts) for p in problems]
    first = problems[0].record
    return Row(
        run=run.name, task=task, strategy=first.strategy, n=len(first.samples),
        problems=len(problems), params_active=first.model.params_active if first.model else 0,
        accuracy=sum(s["acc"] for s in scores) / len(scores),
        tokens=sum(s["total_tokens"] for s in scores) / len(scores),
        flops=sum(p.spent[1] for p in problems) / len(problems),
    )


def pooled(run: Run, prefix: str) -> list[ProblemResult]:
    """All problems of the run's tasks named ``prefix*`` (e.g. the levels of a group)."""
    return [p for task, problems in sorted(run.tasks.items()) if task.startswith(prefix)
            for p in problems]


__all__ = ["Row", "pooled", "row_for"]
