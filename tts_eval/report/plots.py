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


def plot_estimates(points: list, stem: Path, x: str, title: str) -> list[Path]:
    """Accuracy against ``x`` (flops or tokens per problem, log x) for every run and
    estimator of one task, with shaded intervals and the Pareto frontier; PNG and SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    series: dict[tuple[str, str], list] = {}
    for p in points:
        series.setdefault((p.run, p.estimator), []).append(p)
    for (run, estimator), curve in sorted(series.items()):
        curve.sort(key=lambda p: p.k)
        xs = [getattr(p, x) for p in curve]
        style = ":" if estimator == "pass@k" else "-"
        line, = ax.plot(xs, [100 * p.accuracy for p in curve], style,
                        marker="o" if len(curve) == 1 else None, label=f"{run} {estimator}")
        ax.fill_between(xs, [100 * p.low for p in curve], [100 * p.high for p in curve],
                        color=line.get_color(), alpha=0.15, linewidth=0)
    front = sorted((p for p in points if p.pareto), key=lambda p: getattr(p, x))
    if front:
        ax.step([getattr(p, x) for p in front], [100 * p.accuracy for p in front], "k--",
                where="post", linewidth=1, label="Pareto frontier")
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.set_xlabel("FLOPs per problem (generator + verifier)" if x == "flops"
                  else "tokens per problem (generator + verifier)")
    ax.set_ylabel("accuracy % (95% bootstrap interval)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path, dpi=120)
    plt.close(fig)
    return paths


def board_svg(points: list[tuple[str, float, float, float, float, bool]], title: str) -> str:
    """A leaderboard's scatter as inline SVG text, byte-for-byte reproducible: accuracy
    (with its interval) against total FLOPs per problem (log x), one labelled point per
    row ``(label, flops, accuracy, low, high, pareto)``, the Pareto rows joined."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "tts-eval", "svg.fonttype": "none"}):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, flops, acc, low, high, front in points:
            ax.errorbar([flops], [100 * acc], yerr=[[100 * (acc - low)], [100 * (high - acc)]],
                        fmt="o" if front else "s", color="black" if front else "tab:blue",
                        capsize=3, markersize=5)
            ax.annotate(label, (flops, 100 * acc), textcoords="offset points", xytext=(4, 4),
                        fontsize=7)
        front = sorted((f, a) for _, f, a, _, _, p in points if p)
        if front:
            ax.step([f for f, _ in front], [100 * a for _, a in front], "k--", where="post",
                    linewidth=1)
        ax.set_xscale("log")
        ax.set_ylim(0, 100)
        ax.set_xlabel("FLOPs per problem (generator + verifier)")
        ax.set_ylabel("accuracy % (95% interval)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]
