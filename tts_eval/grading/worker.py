"""The process that runs symbolic comparisons, and the hardening it applies to itself.

A worker is a separate process because sympy can take unbounded time or memory on a short
string, and only a process can be stopped reliably (signal alarms only work on the main
thread, and not inside C code such as big-integer arithmetic). The parent (pool.py) kills a
worker that overruns the hard timeout; inside, a soft alarm stops most slow comparisons
earlier so the worker survives.

Hardening applied at start, before any model text is seen:

* sympy's string parser (``parse_expr`` / ``eval_expr``, which every ``sympify(str)`` goes
  through) is replaced by a function that refuses, so no path inside sympy, latex2sympy2 or
  Math-Verify can evaluate text as Python in this process;
* an address-space limit turns memory blow-ups into MemoryError;
* SIGINT is ignored (the parent decides when workers stop); EOF on the pipe ends the worker.

Workers are normally forked from a "zygote" (``zygote_main``) that has already imported
sympy and warmed the LaTeX parser; ``main`` starts a stand-alone worker where fork is not
available.

Protocol: the worker sends ``("ready", pid)`` once, then answers each ``(task_id, op, args,
soft_timeout)`` with ``(task_id, ok, payload)``. ``None`` asks it to exit.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

MEMORY_LIMIT_BYTES = 3 * 1024**3


class UnsafeParseRefused(RuntimeError):
    """Raised by the disabled sympy string parser."""


class _SoftTimeout(BaseException):
    """Raised by the soft alarm. A BaseException, so ``except Exception`` inside sympy or
    Math-Verify cannot swallow it and carry on past the deadline."""


def _inside_import() -> bool:
    """Whether the current call happens while Python imports a module.

    sympy builds some constants from strings when a submodule is first imported (e.g.
    ``sympy.physics.units`` on the first ``solve``); that text is sympy's own source, never
    an answer. Everything else is refused.
    """
    frame = sys._getframe(2)
    depth = 0
    while frame is not None and depth < 500:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
        depth += 1
    return False


def _guard(original: Callable[..., Any]) -> Callable[..., Any]:
    def refuse_unless_importing(*args: Any, **kwargs: Any) -> Any:
        if _inside_import():
            return original(*args, **kwargs)
        raise UnsafeParseRefused("parsing text as Python is disabled in grading workers")

    refuse_unless_importing.__wrapped_original__ = original  # type: ignore[attr-defined]
    return refuse_unless_importing


def disable_string_evaluation() -> None:
    """Make every route to sympy's ``parse_expr``/``eval_expr`` (hence ``sympify(str)``)
    raise instead of evaluating, except for sympy's own imports."""
    import sympy.parsing
    import sympy.parsing.sympy_parser as sympy_parser

    if hasattr(sympy_parser.parse_expr, "__wrapped_original__"):
        return
    parse_guard = _guard(sympy_parser.parse_expr)
    sympy_parser.parse_expr = parse_guard
    sympy_parser.eval_expr = _guard(sympy_parser.eval_expr)
    sympy.parsing.parse_expr = parse_guard
    import latex2sympy2_extended.latex2sympy2 as l2s

    l2s.parse_expr = parse_guard
    try:
        import math_verify.parser as mv_parser

        mv_parser.parse_expr = parse_guard
    except ImportError:  # pragma: no cover - math_verify is a dependency
        pass


def _harden() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT_BYTES
        if hard != resource.RLIM_INFINITY:
            limit = min(hard, MEMORY_LIMIT_BYTES)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX or locked limits
        pass
    disable_string_evaluation()


@contextmanager
def _soft_deadline(seconds: float | None):
    if not seconds or seconds <= 0:
        yield
        return

    def _alarm(_signum: int, _frame: object) -> None:
        raise _SoftTimeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _probe_string_evaluation() -> str:
    """Self-test: try the parser route ``sympify(str)`` takes; report whether it was refused."""
    import sympy

    try:
        sympy.sympify("1 + 1")
    except UnsafeParseRefused:
        return "refused"
    except Exception as exc:  # sympify wraps some errors
        return "refused" if "disabled in grading workers" in repr(exc) else f"error {exc!r}"
    return "evaluated"


def _sleep(seconds: float) -> str:
    """Self-test: a task that overruns every deadline (used to test the hard kill)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            time.sleep(0.05)
        except _SoftTimeout:  # ignore the soft alarm: behave like stuck C code
            continue
    return "slept"


def _crash() -> str:
    """Self-test: die the way a segfaulting extension would."""
    os._exit(70)


def _operations() -> dict[str, Callable[..., Any]]:
    from . import symbolic

    return {
        "compare": symbolic.compare,
        "probe_eval": _probe_string_evaluation,
        "sleep": _sleep,
        "crash": _crash,
        "pid": os.getpid,
    }


LAZY_MODULES = (
    "antlr4.LL1Analyzer",
    "sympy.assumptions.wrapper",
    "sympy.combinatorics",
    "sympy.physics.matrices",
    "sympy.physics.units",
    "sympy.sets.handlers.functions",
    "sympy.sets.handlers.issubset",
    "sympy.sets.setexpr",
    "sympy.tensor.tensor",
)
"""Modules sympy and ANTLR import on first use (``solve`` pulls in ``sympy.physics.units``):
imported at start (0.1 s) so that no comparison pays for an import inside its deadline."""


def import_lazy_modules() -> None:
    import importlib

    for name in LAZY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - another sympy version; the test says which
            pass


def parse_warm_up_corpus() -> None:
    """Parse typical answers so the LaTeX parser's tables are built once (see _warmup.py).

    Costs about 2.5 s of one core: worth it only when nobody waits for it (a zygote started
    while an engine loads), not in a re-grading job that needs its first worker now.
    """
    from . import symbolic
    from ._warmup import ANSWERS, COMPARISONS

    for answer in ANSWERS:
        try:
            symbolic.parse_answer(answer, False)
        except Exception:  # noqa: BLE001 - warm-up is best effort
            pass
    for gold, pred in COMPARISONS:
        try:
            symbolic.compare(gold, pred)
        except Exception:  # noqa: BLE001
            pass


def main(argv: list[str] | None = None) -> None:
    """Stand-alone worker: ``python -c "...main()" FD``, FD one end of a socket pair.
    Used when the zygote cannot be (no ``fork``)."""
    from multiprocessing.connection import Connection

    args = sys.argv[1:] if argv is None else argv
    conn = Connection(int(args[0]))
    try:
        _harden()
        operations = _operations()
        import_lazy_modules()
    except BaseException as exc:  # noqa: BLE001 - report any start failure to the parent
        _report_failure(conn, exc)
        return
    serve(conn, operations)


def zygote_main(argv: list[str] | None = None) -> None:
    """Fork server: ``python -c "...zygote_main()" FD [warm]``, FD a control socket.

    Hardens itself and imports what comparisons need once (and, given ``warm``, parses the
    warm-up corpus), then forks one worker per socket received over the
    control socket (``socket.send_fds``). Forked workers inherit the hardening, the loaded
    modules and the warm parser tables, so a new or replacement worker is ready in
    milliseconds. Exits when the parent closes the control socket.
    """
    import socket
    from multiprocessing.connection import Connection

    args = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(args[0]))
    _harden()
    operations = _operations()
    import_lazy_modules()
    if args[1:] == ["warm"]:
        parse_warm_up_corpus()
    # Everything loaded so far lives as long as the workers: keep it out of their garbage
    # collections (and their copy-on-write pages untouched by the collector).
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    while True:
        try:
            # One byte per request: each request carries its socket as ancillary data.
            message, fds, _flags, _addr = socket.recv_fds(control, 1, 4)
        except (OSError, KeyboardInterrupt):
            return
        if not message:
            return
        for fd in fds:
            try:
                pid = os.fork()
            except OSError:  # out of processes or memory: the parent sees EOF and copes
                os.close(fd)
                continue
            if pid == 0:  # the worker
                try:
                    control.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    serve(Connection(fd), operations)
                finally:
                    os._exit(0)
            os.close(fd)


def _report_failure(conn: Any, exc: BaseException) -> None:
    try:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    except OSError:
        pass


def serve(conn: Any, operations: dict[str, Callable[..., Any]]) -> None:
    """Report ready, then serve tasks on ``conn`` until EOF (protocol in the module doc)."""
    try:
        conn.send(("ready", os.getpid()))
    except OSError:
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, op, args, soft_timeout = message
        try:
            with _soft_deadline(soft_timeout):
                payload = operations[op](*args)
            reply = (task_id, True, payload)
        except _SoftTimeout:
            reply = (task_id, False, "timeout")
        except MemoryError:
            reply = (task_id, False, "memory limit exceeded")
        except RecursionError:
            reply = (task_id, False, "nested too deeply")
        except Exception as exc:  # noqa: BLE001 - never let one answer kill the worker
            # Only the type: printing a sympy object can itself take forever.
            reply = (task_id, False, f"error: {type(exc).__name__}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
