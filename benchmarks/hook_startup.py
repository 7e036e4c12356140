"""What the lm-eval hook costs every Python process: median over fresh interpreters.

The wheel's one-line ``.pth`` imports ``tts_eval.harness.hook`` at every interpreter
start (the package's ``__init__`` included). This prints its import time as Python's
``-X importtime`` measures it, and the wall time of ``python -c pass`` with the hook on
and switched off (``TTS_EVAL_LM_EVAL_HOOK=0`` skips installing the import finder, not the
import itself).

    python benchmarks/hook_startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time


def hook_import_us() -> int:
    """Cumulative microseconds of ``tts_eval.harness.hook`` in one fresh interpreter."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"],
                          capture_output=True, text=True, check=True)
    match = re.search(r"\|\s*(\d+) \|\s+tts_eval\.harness\.hook$", proc.stderr, re.M)
    if match is None:
        raise SystemExit("the hook was not imported: is tts-eval installed in this Python?")
    return int(match.group(1))


def hook_wall_ms() -> float:
    """Wall time of the hook's import in a fresh interpreter started without ``site``
    (so the .pth has not imported it yet), with the package's folder on ``sys.path``."""
    import tts_eval

    root = os.path.dirname(os.path.dirname(tts_eval.__file__))
    code = (f"import sys, time; sys.path.insert(0, {root!r}); t = time.perf_counter(); "
            "import tts_eval.harness.hook; print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          check=True)
    return 1000 * float(proc.stdout)


def interpreter_ms(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
    return 1000 * (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description="lm-eval hook start-up cost")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    imports = [hook_import_us() / 1000 for _ in range(args.runs)]
    walls = [hook_wall_ms() for _ in range(args.runs)]
    on = [interpreter_ms(dict(os.environ)) for _ in range(args.runs)]
    off = [interpreter_ms({**os.environ, "TTS_EVAL_LM_EVAL_HOOK": "0"}) for _ in range(args.runs)]
    print(f"hook import (-X importtime), median of {args.runs}: "
          f"{statistics.median(imports):.1f} ms (min {min(imports):.1f}, max {max(imports):.1f})")
    print(f"hook import (wall clock, no -X importtime), median of {args.runs}: "
          f"{statistics.median(walls):.1f} ms (min {min(walls):.1f}, max {max(walls):.1f})")
    print(f"python -c pass, hook on:  {statistics.median(on):.1f} ms")
    print(f"python -c pass, hook off: {statistics.median(off):.1f} ms")


if __name__ == "__main__":
    main()
