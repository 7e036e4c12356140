"""Leaderboard rows and scaling plots from finished runs: accuracy next to its cost.

Every row states what it bought (accuracy) and what it spent (tokens and FLOPs per
problem, the generator's active parameters), read from the runs' TTS records only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from tts_eval.metrics import score_record
from tts_eval.runs import ProblemResult, Run
from tts_eval.scaling import CurvePoint


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
        problems=len(problems), params_active=int(first.model.get("params_active", 0)),
        accuracy=sum(s["acc"] for s in scores) / len(scores),
        tokens=sum(s["total_tokens"] for s in scores) / len(scores),
        flops=sum(s["flops"] for s in scores) / len(scores),
    )


def pooled(run: Run, prefix: str) -> list[ProblemResult]:
    """All problems of the run's tasks named ``prefix*`` (e.g. the levels of a group)."""
    return [p for task, problems in sorted(run.tasks.items()) if task.startswith(prefix)
            for p in problems]


def format_rows(rows: list[Row], extra: dict[str, list[str]] | None = None) -> str:
    """A plain-text table; ``extra`` adds columns (header -> one value per row)."""
    extra = extra or {}
    headers = ["run", "task", "strategy", "n", "problems", "active params", "acc %",
               *extra, "tokens/problem", "FLOPs/problem"]
    body = [[r.run, r.task, r.strategy, r.n, r.problems, f"{r.params_active:,}",
             f"{100 * r.accuracy:.1f}", *(col[i] for col in extra.values()),
             f"{r.tokens:.0f}", f"{r.flops:.3e}"] for i, r in enumerate(rows)]
    return tabulate(body, headers=headers, disable_numparse=True)


def plot_scaling(curves: dict[str, list[CurvePoint]], points: dict[str, tuple[float, float]],
                 path: Path, title: str) -> Path:
    """Accuracy against FLOPs per problem (log x): one curve per run, one marker per point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, curve in curves.items():
        line, = ax.plot([p.flops for p in curve], [100 * p.accuracy for p in curve],
                        marker="o", label=label)
        for p in curve:
            ax.annotate(f"{p.k}", (p.flops, 100 * p.accuracy), textcoords="offset points",
                        xytext=(0, 5), ha="center", fontsize=7, color=line.get_color())
    for label, (flops, accuracy) in points.items():
        ax.scatter([flops], [100 * accuracy], marker="*", s=120, label=label, zorder=3)
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)  # differences read honestly against zero, not a zoomed axis
    ax.set_xlabel("FLOPs per problem (actual, prefix shared)")
    ax.set_ylabel("accuracy %")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


__all__ = ["Row", "format_rows", "plot_scaling", "pooled", "row_for"]
