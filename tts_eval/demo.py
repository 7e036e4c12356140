"""``tts-eval demo``: the toy world end to end, on CPU, in minutes, with no network.

For each bundled toy model (small, medium, large) it starts one vLLM engine and runs
lm-eval's ``arith_tts`` (five difficulty levels) twice through the tts-vllm model:
greedy, and majority voting over 16 samples. Then it prints a leaderboard (accuracy,
tokens and FLOPs per problem) and writes a scaling plot (accuracy against FLOPs, the
majority curve at k = 1, 2, 4, 8, 16 plus the greedy point) where test-time compute
visibly buys accuracy.

    tts-eval demo [--out DIR] [--per-level 40] [--models small,medium,large]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_TEMPERATURE = 0.8  # what the toy models were measured at (TRAINING.json)
# What every demo run shares besides the model and the strategy; the engine arguments are
# the toy world's (toy/evaluate.py: contexts of 512 tokens, eager mode).
SAMPLING_ARGS = {"max_gen_toks": 160, "seed": 0}


class Progress:
    """One line per stage, with the time since the demo started."""

    def __init__(self, total: int) -> None:
        self.start = time.monotonic()
        self.total = total
        self.done = 0

    def say(self, message: str, *, step: bool = False) -> None:
        if step:
            self.done += 1
        elapsed = time.monotonic() - self.start
        print(f"[{elapsed:6.1f}s] [{self.done}/{self.total}] {message}", flush=True)


def report(runs_dir: Path, out: Path) -> str:
    """The leaderboard (DIR/leaderboard.md: the pooled arith_tts table, then one per level,
    by the code of ``tts-eval leaderboard``, whose files and HTML page go to
    DIR/leaderboard/) and DIR/scaling.png. Returns the pooled table."""
    from tts_eval.report.curves import run_curve
    from tts_eval.report.leaderboard import boards, entries_from_runs, markdown
    from tts_eval.report.leaderboard_command import write_leaderboard
    from tts_eval.report.plots import plot_scaling
    from tts_eval.report.runs import load_run
    from tts_eval.report.tables import pooled

    runs = [load_run(path) for path in sorted(runs_dir.iterdir()) if path.is_dir()]
    board_list = boards(entries_from_runs(runs))
    board_list.sort(key=lambda b: (b.task != "arith_tts", b.task))  # the pooled table first
    write_leaderboard(board_list, out / "leaderboard", "tts-eval demo: the toy world")
    (out / "leaderboard.md").write_text(markdown(board_list))
    curves, points = {}, {}
    for run in runs:
        model = run.name.rsplit("-", 1)[0]
        problems = pooled(run, "arith_tts_l")
        curve = run_curve(problems)
        if len(problems[0].record.samples) > 1:
            curves[f"{model} majority@k"] = curve
        else:
            points[f"{model} greedy"] = (curve[0].flops, curve[0].accuracy)
    plot_scaling(curves, points, out / "scaling.png",
                 "toy world arith_tts: accuracy vs compute")
    return markdown(board_list[:1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tts-eval demo",
        description="The toy world end to end on CPU: each bundled toy model answers "
                    "arith_tts greedily and by majority vote, through lm-eval and vLLM; "
                    "then a leaderboard and a scaling plot.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", metavar="DIR", default="runs/demo", help="output directory")
    parser.add_argument("--per-level", metavar="K", type=int, default=40,
                        help="problems per difficulty level (1-100)")
    parser.add_argument("--models", metavar="NAMES", default="small,medium,large",
                        help="bundled toy models, comma-separated")
    parser.add_argument("--n", type=int, default=16, help="samples for majority voting")
    parser.add_argument("--temperature", metavar="T", type=float, default=DEFAULT_TEMPERATURE,
                        help="sampling temperature")
    parser.add_argument("--verbose", action="store_true",
                        help="also show vLLM's and lm-eval's logs and progress bars")
    args = parser.parse_args(argv)
    from tts_eval.console import quiet_libraries

    quiet_libraries(args.verbose)

    from tts_eval.toy import model_path

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    try:
        paths = {name: model_path(name) for name in names}
    except (ValueError, FileNotFoundError) as exc:
        print(f"tts-eval demo: {exc}", file=sys.stderr)
        return 2
    if not 1 <= args.per_level <= 100:
        print("tts-eval demo: --per-level must be between 1 and 100", file=sys.stderr)
        return 2

    from tts_eval.harness.evaluate import evaluate, task_manager
    from tts_eval.harness.model import TTSVLLM
    from tts_eval.toy.evaluate import ENGINE_ARGS

    out = Path(args.out)
    runs_dir = out / "runs"
    progress = Progress(total=2 * len(names) + 1)
    tasks = task_manager()
    strategies = [{"strategy": "greedy"}, {"strategy": "majority", "n": args.n}]
    for name, path in paths.items():
        engine = None  # one vLLM engine per model, shared by its runs
        for strategy in strategies:
            tts_args = {"pretrained": str(path), **strategy, "temperature": args.temperature,
                        **SAMPLING_ARGS}
            if engine is None:
                lm = TTSVLLM(**tts_args, **ENGINE_ARGS)
                engine = lm.engine
            else:
                lm = TTSVLLM(**tts_args, engine=engine)
            label = f"{strategy['strategy']}{strategy.get('n', '')}"
            start = "; starting its vLLM engine" if not engine.started else ""
            progress.say(f"{name}: {label} on arith_tts ({5 * args.per_level} problems{start})")
            evaluate(lm, {**tts_args, **ENGINE_ARGS}, ["arith_tts"],
                     runs_dir / f"{name}-{label}", limit=args.per_level, tasks=tasks)
            progress.say(f"{name}: {label} done", step=True)
        engine.close()
    table = report(runs_dir, out)
    progress.say(f"wrote {out / 'leaderboard.md'} and {out / 'scaling.png'}", step=True)
    print("\n" + table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
