"""``tts-eval``: the project's command line. Each subcommand lives in its own module."""

from __future__ import annotations

import importlib
import sys

# name -> (module with a ``main(argv) -> int``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("tts_eval.demo", "toy world: 3 bundled models x greedy/majority, table + plot"),
    "grade": ("tts_eval.grading.cli", "re-grade an lm-eval samples JSONL (or response/gold JSONL)"),
    "match": ("tts_eval.report.flops_matched",
              "compare runs at equal FLOPs per problem (break-even ratios)"),
    "curve": ("tts_eval.report.curve_command",
              "scaling curves: every estimator at every k, bootstrap intervals, Pareto front"),
    "leaderboard": ("tts_eval.report.leaderboard_command",
                    "ranked tables of runs: Markdown, CSV, JSON per task + one HTML page"),
    "compare": ("tts_eval.report.compare",
                "CI gate: is a candidate run significantly worse than a baseline? (exit 1)"),
    "calibrate": ("tts_eval.report.calibrate",
                  "compute-optimal: the best strategy per difficulty bin and budget, from runs"),
    "runs": ("tts_eval.store.command",
             "run stores: `ls` models, samples and runs; `show` a run; `gc` prune"),
    "make-tiny-model": ("tts_eval.dev.tiny_model", "tiny random-weight model for plumbing tests"),
}


def _usage() -> str:
    lines = ["usage: tts-eval COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<18}{help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`tts-eval COMMAND --help` shows a command's options. Commands print their "
              "own progress; `--verbose` (where a command runs vLLM) shows the libraries' logs.",
              "Evaluations run through the stock CLI: lm_eval --model tts-vllm ..."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"tts-eval: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    import signal

    from tts_eval.console import quiet_libraries

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `tts-eval ... | head` ends quietly

    quiet_libraries(verbose="--verbose" in rest)
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
