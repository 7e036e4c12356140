"""What the run store costs, and what a remote server gives, on the toy world.

1. Store overhead: the demo's workload for one model (majority@16 over the arith_tts
   evaluation problems) solved on one warm in-process engine, plain and behind a fresh run
   store, alternately; target: under 3% of the run's time. Also the time to replay the whole
   run from the store (what a resumed run that lost nothing to generate costs).
2. Remote engine: the same workload on one local ``vLLM`` OpenAI-compatible server
   (127.0.0.1) through ``base_url``'s engine, against the in-process engine (throughput
   ratio, generated tokens per second).

    python benchmarks/store.py [--per-level 40] [--n 16] [--repeats 3] [--no-server]

Prints numbers and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _solve(engine, problems, n: int) -> tuple[float, int]:
    from tts_eval.strategies import get_strategy

    start = time.perf_counter()
    records = get_strategy("majority", n=n).solve(problems, engine)
    seconds = time.perf_counter() - start
    return seconds, sum(s.completion_tokens for r in records for s in r.samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-level", type=int, default=40, help="the demo's default")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-server", action="store_true")
    args = parser.parse_args()

    from tts_eval.console import quiet_libraries
    from tts_eval.engines import SamplingSpec
    from tts_eval.engines.stored import StoredEngine
    from tts_eval.store import RunStore
    from tts_eval.strategies import Problem
    from tts_eval.toy import model_path
    from tts_eval.toy.evaluate import make_engine
    from tts_eval.toy.problems import (
        ARITH_TTS_PROBLEMS_PER_LEVEL,
        EVAL_SEED,
        LEVELS,
        format_prompt,
    )
    from tts_eval.toy.problems import make_problems as toy_problems

    quiet_libraries(verbose=False)
    rows = [p for level in LEVELS
            for p in toy_problems(ARITH_TTS_PROBLEMS_PER_LEVEL, level, EVAL_SEED)[:args.per_level]]
    problems = [Problem(format_prompt(p), SamplingSpec(temperature=0.8, max_tokens=160, seed=i))
                for i, p in enumerate(rows)]
    model = model_path("medium")
    engine = make_engine(model)
    _solve(engine, problems[:8], args.n)  # start and warm the engine

    plain, stored, replay = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            seconds, tokens = _solve(engine, problems, args.n)
            plain.append(seconds)
            store = RunStore(Path(tmp) / f"store{i}")
            seconds, _ = _solve(StoredEngine(engine, store, "medium"), problems, args.n)
            stored.append(seconds)
            seconds, _ = _solve(StoredEngine(engine, store, "medium"), problems, args.n)
            replay.append(seconds)
            size = store.size_bytes()
    p, s, r = (statistics.median(x) for x in (plain, stored, replay))
    print(f"workload: {len(problems)} problems x majority@{args.n}, toy medium, "
          f"{tokens} generated tokens per run; medians of {args.repeats}")
    print(f"  in-process engine, no store   {p:7.2f} s")
    print(f"  behind a fresh run store      {s:7.2f} s   overhead {100 * (s / p - 1):+.1f}% "
          "(target < 3%)")
    print(f"  replayed from the store       {r:7.2f} s   ({r / p:.3f}x; nothing generated)")
    print(f"  store size                    {size / 1e6:7.1f} MB "
          f"({size / len(problems) / 1e3:.1f} kB per problem)")

    if args.no_server:
        return
    from tts_eval.engines.local_server import start_server
    from tts_eval.engines.openai_server import ServerEngine

    engine.close()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(model, Path(tmp) / "server.log").wait()
        try:
            remote = ServerEngine(str(model), [server.url])
            _solve(remote, problems[:8], args.n)
            seconds = [_solve(remote, problems, args.n)[0] for _ in range(args.repeats)]
        finally:
            server.kill()
    q = statistics.median(seconds)
    print(f"  one local vLLM server         {q:7.2f} s   throughput {p / q:.2f}x the "
          "in-process engine's")


if __name__ == "__main__":
    main()
