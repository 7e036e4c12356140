"""``tts-eval runs ls|show|gc DIR``: what a run store holds, and pruning it.

``ls`` lists the models (samples, tokens) and the runs (finished or not, requests reused
and generated); ``show`` prints one run's arguments; ``gc`` drops a model's results or those
unused for some days, and gives the space back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from tts_eval.store.run_store import FILE_NAME, RunStore, StoreError


def _open(directory: str) -> RunStore:
    path = Path(directory)
    if not (path / FILE_NAME).is_file():
        raise StoreError(f"{path} holds no run store ({FILE_NAME} missing); a store is made by "
                         "lm_eval --model tts-vllm ... --output_path OUT (in OUT/tts-store) or "
                         "store=DIR")
    return RunStore(path)


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "-"


def _ls(store: RunStore) -> str:
    models = [[m["model"], m["fingerprint"][:12], m["samples"], m["entries"], m["tokens"]]
              for m in store.models()]
    runs = [[r["id"], _when(r["started"]), "finished" if r["finished"] else "unfinished",
             r["model"], r["label"], r["reused"], r["generated"]] for r in store.runs()]
    return "\n\n".join([
        f"run store {store.directory} ({store.size_bytes() / 1e6:.1f} MB, {store.count()} "
        "results)",
        tabulate(models, ["model", "fingerprint", "samples", "results", "tokens"],
                 tablefmt="github"),
        tabulate(runs, ["run", "started", "status", "model", "tasks and strategy", "reused",
                        "generated"], tablefmt="github")])


def _show(store: RunStore, run_id: int | None) -> str:
    runs = store.runs()
    if not runs:
        return f"run store {store.directory} has no runs"
    chosen = runs[-1] if run_id is None else next((r for r in runs if r["id"] == run_id), None)
    if chosen is None:
        raise StoreError(f"run store {store.directory} has no run {run_id}; its runs: "
                         f"{', '.join(str(r['id']) for r in runs)}")
    return json.dumps({**chosen, "started": _when(chosen["started"]),
                       "finished": _when(chosen["finished"])}, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tts-eval runs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("ls", help="models, samples, tokens and runs of a store")
    ls.add_argument("store", help="the store directory (e.g. runs/A/tts-store)")
    show = sub.add_parser("show", help="one run's arguments and counts (default: the last)")
    show.add_argument("store")
    show.add_argument("run", nargs="?", type=int, help="run number from `ls`")
    gc = sub.add_parser("gc", help="drop results, then reclaim the space")
    gc.add_argument("store")
    gc.add_argument("--model", action="append", default=[],
                    help="drop every result of this model (as `ls` names it); repeatable")
    gc.add_argument("--unused-days", type=float,
                    help="drop results no run has used for this many days")
    gc.add_argument("--dry-run", action="store_true", help="say what would go, drop nothing")
    args = ap.parse_args(argv)
    try:
        store = _open(args.store)
        if args.action == "ls":
            print(_ls(store))
        elif args.action == "show":
            print(_show(store, args.run))
        else:
            dropped = store.prune(args.model, args.unused_days, args.dry_run)
            verb = "would drop" if args.dry_run else "dropped"
            print(f"{verb} {dropped['entries']} results ({dropped['tokens']} tokens); "
                  f"{store.count()} left, {store.size_bytes() / 1e6:.1f} MB")
    except StoreError as exc:
        print(f"tts-eval runs: {exc}", file=sys.stderr)
        return 2
    return 0
