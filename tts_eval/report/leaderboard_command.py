"""``tts-eval leaderboard RUN_DIR... --out DIR``: ranked tables of finished runs.

Per task: ``<task>.md`` (tabulate), ``<task>.csv`` and ``<task>.json`` (the validated
entries), and one ``index.html`` for every task (sortable, filterable, with each task's
plot; it opens from the file system with no network). Rows of runs whose documents or
prompts differ are never ranked together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tts_eval.report.leaderboard import (
    Board,
    EntryError,
    accuracy,
    boards,
    csv_text,
    entries_from_runs,
    json_text,
    markdown,
    strategy_label,
    total_flops,
)
from tts_eval.report.runs import RunError, load_run


def write_leaderboard(board_list: list[Board], out: Path, title: str) -> list[Path]:
    """Every file of the leaderboard in ``out``; returns their paths."""
    from tts_eval.report.leaderboard_html import render_page
    from tts_eval.report.plots import board_svg

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for task in sorted({b.task for b in board_list}):
        mine = [b for b in board_list if b.task == task]
        for suffix, text in ((".md", markdown(mine)), (".csv", csv_text(mine)),
                             (".json", json_text(mine))):
            path = out / f"{task}{suffix}"
            path.write_text(text)
            written.append(path)
    plots = {b.key: board_svg([(f"{e['model']['id']} {strategy_label(e)}", total_flops(e),
                                accuracy(e), *e["metrics"][0]["interval"], front)
                               for e, front in zip(b.entries, b.pareto, strict=True)], b.task)
             for b in board_list}
    page = out / "index.html"
    page.write_text(render_page(board_list, plots, title))
    return [*written, page]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tts-eval leaderboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="lm-eval --output_path folders (--log_samples)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the tables")
    parser.add_argument("--task", action="append", help="only this task (repeatable)")
    parser.add_argument("--title", default="tts-eval leaderboard")
    args = parser.parse_args(argv)
    try:
        runs = [load_run(path) for path in args.runs]
        board_list = boards(entries_from_runs(runs, args.task))
    except (RunError, EntryError) as exc:
        print(f"tts-eval leaderboard: {exc}", file=sys.stderr)
        return 2
    if not board_list:
        print("tts-eval leaderboard: no task to rank (check --task)", file=sys.stderr)
        return 2
    write_leaderboard(board_list, args.out, args.title)
    print(markdown(board_list), end="")
    print(f"\nwrote {len(board_list)} table(s) and index.html to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
