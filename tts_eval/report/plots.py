"""Scaling plots: accuracy against FLOPs per problem, one curve per run."""

from __future__ import annotations

from pathlib import Path

from tts_eval.report.curves import CurvePoint


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
