"""A pool of worker processes with a hard wall-clock timeout per task.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot stop one running task (a
timed-out future keeps its process busy forever) and a dead worker breaks the whole pool.
Here every task has its own deadline; a worker that overruns it is killed and replaced, a
worker that dies is replaced, and the caller always gets one result per task, never an
exception.

Processes: the pool starts one fresh interpreter, the *zygote* (``python -c``, not
``multiprocessing``: no fork of a threaded caller, and no re-import of the caller's
``__main__``, so a script without an ``if __name__ == "__main__"`` guard still works). The
zygote imports sympy once (and warms the LaTeX parser when started ahead of need), then
forks a worker for each socket the pool sends it; a new or replacement worker is ready in
milliseconds and shares that state. Workers are reused for the life of the process, so
their parse caches stay warm. Without ``fork`` (or if the zygote fails) each worker is a
fresh interpreter instead.

Thread-safe: several threads may call :meth:`WorkerPool.run` at once; each call borrows
whole workers, so tasks of different calls never share a pipe.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

STARTUP_TIMEOUT = 120.0
"""Seconds a new worker may take to import sympy and report ready (slow, loaded machines)."""

SOFT_FRACTION = 0.8
"""The worker stops itself at this fraction of the hard timeout, so it usually survives."""

PIPELINE_DEPTH = 4
"""Tasks waiting in a worker at once: on a busy machine the parent may take longer to wake
up and send the next task than the worker takes to finish one."""

Task = tuple[str, tuple[Any, ...]]
Result = tuple[bool, Any]


_WORKER_CODE = "from tts_eval.grading.worker import main; main()"
_ZYGOTE_CODE = "from tts_eval.grading.worker import zygote_main; zygote_main()"


class _Worker:
    __slots__ = ("process", "conn", "ready", "born", "pid", "pidfd")

    def __init__(self, process: subprocess.Popen | None, conn: Connection) -> None:
        self.process = process  # None for a worker forked by the zygote
        self.conn = conn
        self.ready = False
        self.born = time.monotonic()
        self.pid: int | None = None
        self.pidfd: int | None = None

    def set_pid(self, pid: int) -> None:
        """Remember the worker's pid; hold a pidfd so a kill can never hit a reused pid."""
        self.pid = pid
        if self.process is None and hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(pid)
            except OSError:
                self.pidfd = None

    def kill(self) -> None:
        if self.process is not None:
            try:
                self.process.kill()
            except OSError:
                pass
        elif self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except OSError:
                pass
        elif self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.conn.close()
        except OSError:
            pass
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if self.process is not None:
            try:
                self.process.wait(timeout=2.0)
            except (OSError, subprocess.TimeoutExpired):
                pass


def _worker_env() -> dict[str, str]:
    """The caller's environment, with its import path so a source checkout works too."""
    env = dict(os.environ)
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _launch(code: str, sock: socket.socket, *args: str) -> subprocess.Popen:
    """Start ``python -c code FD ARGS`` with ``sock`` as its only inherited descriptor."""
    debug = bool(os.environ.get("TTS_EVAL_GRADING_DEBUG"))
    return subprocess.Popen(
        [sys.executable, "-c", code, str(sock.fileno()), *args],
        pass_fds=(sock.fileno(),),
        stdin=subprocess.DEVNULL,
        stdout=None if debug else subprocess.DEVNULL,
        stderr=None if debug else subprocess.DEVNULL,
        env=_worker_env(),
        close_fds=True,
    )


class _Zygote:
    """The fork server process (worker.zygote_main) and its control socket."""

    def __init__(self, warm: bool) -> None:
        self.sock, child = socket.socketpair()
        try:
            self.process = _launch(_ZYGOTE_CODE, child, *(["warm"] if warm else []))
        except BaseException:
            self.sock.close()
            raise
        finally:
            child.close()
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork_worker(self) -> _Worker:
        parent_end, child_end = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"F"], [child_end.fileno()])
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        return _Worker(None, Connection(parent_end.detach()))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.process.kill()
            self.process.wait(timeout=2.0)
        except (OSError, subprocess.TimeoutExpired):
            pass


class WorkerPool:
    """Up to ``size`` worker processes, started on first use."""

    def __init__(self, size: int) -> None:
        self.size = max(1, int(size))
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._alive = 0
        self._pid = os.getpid()
        self._closed = False
        self._task_ids = itertools.count(1)
        self._zygote: _Zygote | None = None
        self._zygote_lock = threading.Lock()
        self.warm = False  # whether a zygote started from now on parses the warm-up corpus
        self.stats = {"zygotes": 0, "started": 0, "tasks": 0, "killed_timeout": 0, "died": 0}

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def owned_by_this_process(self) -> bool:
        return self._pid == os.getpid()

    def _start_worker(self) -> _Worker:
        """A new worker: forked by the zygote (started if needed), else a fresh process."""
        if hasattr(os, "fork") and hasattr(socket, "send_fds"):
            for _ in range(2):
                with self._zygote_lock:
                    if self._zygote is None or not self._zygote.alive():
                        if self._zygote is not None:
                            self._zygote.close()
                        try:
                            self._zygote = _Zygote(self.warm)
                        except Exception:  # noqa: BLE001 - fall back to a fresh process
                            self._zygote = None
                            break
                        self.stats["zygotes"] += 1
                    zygote = self._zygote
                try:
                    worker = zygote.fork_worker()
                except OSError:
                    continue  # the zygote died: start another one
                self.stats["started"] += 1
                return worker
        parent_sock, child_sock = socket.socketpair()
        try:
            process = _launch(_WORKER_CODE, child_sock)
        except BaseException:
            parent_sock.close()
            raise
        finally:
            child_sock.close()
        self.stats["started"] += 1
        return _Worker(process, Connection(parent_sock.detach()))

    def prestart(self, count: int | None = None, warm: bool = False) -> None:
        """Start up to ``count`` workers now without waiting for them, so their start-up
        (importing sympy) overlaps with the caller's own work. ``warm``: the caller will not
        need them for seconds, so a zygote started now also warms the LaTeX parser."""
        with self._cond:
            if warm and self._zygote is None:
                self.warm = True
            target = min(self.size, count or self.size)
            while self._alive < target:
                self._alive += 1
                try:
                    self._idle.append(self._start_worker())
                except Exception:  # noqa: BLE001 - run() reports it if it persists
                    self._alive -= 1
                    break
            self._cond.notify_all()

    def grow(self, size: int) -> None:
        """Allow up to ``size`` workers (never shrinks)."""
        with self._cond:
            self.size = max(self.size, int(size))
            self._cond.notify_all()

    def close(self) -> None:
        """Stop all idle workers; busy ones are stopped by the call that borrowed them."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._alive -= len(idle)
        for worker in idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.kill()
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None

    # -- borrowing -----------------------------------------------------------------------

    def _borrow(self, want: int) -> list[_Worker]:
        with self._cond:
            while True:
                got: list[_Worker] = []
                self._idle.sort(key=lambda w: w.ready)  # ready ones are popped first
                while self._idle and len(got) < want:
                    got.append(self._idle.pop())
                while len(got) < want and self._alive < self.size:
                    self._alive += 1
                    try:
                        got.append(self._start_worker())
                    except Exception:
                        self._alive -= 1
                        if not got:
                            raise
                        break
                if got:
                    return got
                self._cond.wait()

    def _give_back(self, workers: list[_Worker]) -> None:
        with self._cond:
            if self._closed:
                self._alive -= len(workers)
                for worker in workers:
                    worker.kill()
            else:
                self._idle.extend(workers)
            self._cond.notify_all()

    def _replace(self, worker: _Worker) -> _Worker | None:
        """Kill ``worker`` and start a fresh one in its place (None if that fails)."""
        worker.kill()
        try:
            return self._start_worker()
        except Exception:
            with self._cond:
                self._alive -= 1
                self._cond.notify_all()
            return None

    # -- running -------------------------------------------------------------------------

    def run(
        self, tasks: Sequence[Task], timeout: float, max_workers: int | None = None
    ) -> list[Result]:
        """Run ``tasks`` (operation name, args) and return one (ok, payload) per task.

        A task that exceeds ``timeout`` seconds gives ``(False, "timeout")``; one whose
        worker died gives ``(False, "worker crashed")``. Half of the workers take tasks from
        the front of the list and half from the back, so neighbouring tasks (sorted by the
        caller) share a worker's caches.
        """
        if not tasks:
            return []
        want = min(len(tasks), max_workers or self.size)
        try:
            workers = self._borrow(want)
        except Exception as exc:  # noqa: BLE001 - cannot start processes at all
            reason = f"grading worker could not start: {type(exc).__name__}"
            return [(False, reason)] * len(tasks)
        return _Run(self, tasks, timeout).execute(workers)


class _Run:
    """One call of :meth:`WorkerPool.run`: feeds borrowed workers, enforces deadlines.

    Up to PIPELINE_DEPTH tasks wait in each worker's socket, so a worker goes straight from
    one task to the next; the deadline of a task starts when the one before it finishes.
    """

    def __init__(self, pool: WorkerPool, tasks: Sequence[Task], timeout: float) -> None:
        self.pool = pool
        self.tasks = tasks
        self.timeout = timeout
        self.soft = timeout * SOFT_FRACTION
        self.results: list[Result | None] = [None] * len(tasks)
        self.queue = deque(range(len(tasks)))
        self.pending: dict[Connection, deque[tuple[int, int]]] = {}
        self.head_since: dict[Connection, float] = {}
        self.workers: dict[Connection, _Worker] = {}
        self.side: dict[Connection, bool] = {}
        self.starting: dict[Connection, _Worker] = {}
        self.idle: list[_Worker] = []
        self.sides = itertools.cycle((False, True))
        self.retried: set[int] = set()

    def execute(self, workers: list[_Worker]) -> list[Result]:
        for worker in workers:
            if worker.ready:
                self._fill(worker)
            else:
                self.starting[worker.conn] = worker
        try:
            while self.pending or (self.queue and self.starting):
                self._step()
                if self.queue and not self.pending and not self.starting:
                    break  # no worker could be started
        except BaseException:
            # Interrupted: workers with unread results must not be reused.
            for conn in list(self.pending):
                self.workers[conn].kill()
            with self.pool._cond:
                self.pool._alive -= len(self.pending)
                self.pool._cond.notify_all()
            self.pending.clear()
            raise
        finally:
            self.pool._give_back(self.idle + list(self.starting.values()))
        for index in self.queue:
            self.results[index] = (False, "no grading worker available")
        return [r if r is not None else (False, "no result") for r in self.results]

    def _step(self) -> None:
        now = time.monotonic()
        deadlines = [self.head_since[c] + self.timeout for c in self.pending]
        deadlines += [w.born + STARTUP_TIMEOUT for w in self.starting.values()]
        wait_for = max(0.0, min(deadlines) - now) if deadlines else 0.0
        for conn in wait(list(self.pending) + list(self.starting), timeout=wait_for):
            self._receive(conn)
        now = time.monotonic()
        for conn in list(self.pending):
            if now >= self.head_since[conn] + self.timeout:
                self.pool.stats["killed_timeout"] += 1
                self._fail(conn, "timeout")
        for conn, worker in list(self.starting.items()):
            if now >= worker.born + STARTUP_TIMEOUT:
                del self.starting[conn]
                worker.kill()
                with self.pool._cond:
                    self.pool._alive -= 1
                    self.pool._cond.notify_all()

    def _fill(self, worker: _Worker) -> None:
        """Queue tasks on ``worker`` up to the pipeline depth; park it when none are left."""
        conn = worker.conn
        self.workers[conn] = worker
        from_right = self.side.setdefault(conn, next(self.sides))
        pending = self.pending.setdefault(conn, deque())
        while len(pending) < PIPELINE_DEPTH and self.queue:
            index = self.queue.pop() if from_right else self.queue.popleft()
            op, args = self.tasks[index]
            task_id = next(self.pool._task_ids)
            self.pool.stats["tasks"] += 1
            try:
                conn.send((task_id, op, args, self.soft))
            except (OSError, ValueError):
                self.queue.append(index) if from_right else self.queue.appendleft(index)
                self.pool.stats["died"] += 1
                self._fail(conn, "worker crashed")
                return
            if not pending:
                self.head_since[conn] = time.monotonic()
            pending.append((index, task_id))
        if not pending:
            del self.pending[conn]
            self.head_since.pop(conn, None)
            self.idle.append(worker)

    def _fail(self, conn: Connection, reason: str) -> None:
        """The head task fails with ``reason``; the others go back to the queue; the worker
        is killed and replaced. A task whose worker crashed is retried once on a fresh one:
        the worker may have died before the task reached it."""
        worker = self.workers.pop(conn)
        pending = self.pending.pop(conn, deque())
        self.head_since.pop(conn, None)
        if pending:
            index, _ = pending.popleft()
            if reason == "worker crashed" and index not in self.retried:
                self.retried.add(index)
                pending.appendleft((index, 0))
            else:
                self.results[index] = (False, reason)
            for index, _ in reversed(pending):
                self.queue.appendleft(index)
        fresh = self.pool._replace(worker)
        if fresh is not None:
            self.starting[fresh.conn] = fresh

    def _receive(self, conn: Connection) -> None:
        if conn in self.starting:
            worker = self.starting.pop(conn)
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = ("failed", "exited during start")
            if message[0] == "ready":
                worker.ready = True
                worker.set_pid(message[1])
                self._fill(worker)
            else:
                worker.kill()
                with self.pool._cond:
                    self.pool._alive -= 1
                    self.pool._cond.notify_all()
            return
        try:
            reply_id, ok, payload = conn.recv()
        except (EOFError, OSError, ValueError, TypeError):
            self.pool.stats["died"] += 1
            self._fail(conn, "worker crashed")
            return
        pending = self.pending[conn]
        index, task_id = pending[0]
        if reply_id != task_id:  # cannot happen: replies come in order; be safe anyway
            self._fail(conn, "worker protocol error")
            return
        pending.popleft()
        self.results[index] = (ok, payload)
        self.head_since[conn] = time.monotonic()
        self._fill(self.workers[conn])


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def get_pool(workers: int | None = None) -> WorkerPool:
    """The process-wide pool (recreated after a fork, grown when more workers are asked)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or not _POOL.owned_by_this_process:
            _POOL = WorkerPool(workers or default_workers())
        elif workers and workers > _POOL.size:
            _POOL.grow(workers)
        return _POOL


def _shutdown() -> None:
    pool = _POOL
    if pool is not None and pool.owned_by_this_process:
        pool.close()


atexit.register(_shutdown)
