"""Decide whether answers are equivalent: cheap checks here, symbolic ones in workers.

Order of decision for a (gold, answer) pair of the ``math`` kind:

1. identical text, identical normalised text, identical text once labels (``x=``) are
   dropped -> equivalent, decided in this process;
2. both are exact values (numbers, lists or tuples of numbers, clock times) -> compared
   exactly with ``fractions`` in this process; one value against several (a tuple, a set,
   an interval, a list of roots) -> not equivalent;
3. either is too large (limits.py) -> not equivalent, with the reason;
   (an answer stated as a chain, ``29 \\cdot 7 = 203``, is compared by its last side when
   the gold is not itself an equation, as Math-Verify does, by the same two rules);
4. when both are plain arithmetic (numbers, roots, pi, variables), or matrices, tuples or
   intervals of it, whose values differ at fixed points, or a word against a number -> not
   equivalent, decided in this process (arithmetic.py);
5. otherwise one symbolic comparison in a worker, shared by every pair with the same two
   normalised strings (a 64-sample run repeats answers a lot) and remembered afterwards.

Nothing here raises on bad input: a failed, crashed or timed-out comparison is "not
equivalent" with a reason.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .arithmetic import is_word, parts_differ, values_differ
from .limits import size_problem
from .normalize import (
    MAX_NORMALIZE_CHARS,
    answer_shape,
    exact_value,
    normalize_math,
    split_top_level,
    strip_labels,
)
from .pool import get_pool

VERDICT_CACHE_SIZE = 500_000


@dataclass(frozen=True, slots=True)
class Prepared:
    """An answer with everything the in-process checks need, computed once per string."""

    raw: str
    norm: str
    key: str  # norm without variable labels
    value: object | None  # exact value of key, if it has one
    too_large: str | None
    relation: bool = False  # contains =, <, >, \\leq, \\geq, \\neq or \\in
    shape: str | None = None  # "one" value, "many" (tuple, set, ...), None: cannot tell
    last_side: str | None = None  # "a = b = 284" -> "284"
    last_value: object | None = None


_RELATION_RE = re.compile(r"[=<>]|\\(?:leq|geq|neq|in)(?![a-zA-Z])")


def prepare(answer: str) -> Prepared:
    """Normalise ``answer`` and compute its exact value and size verdict (cached)."""
    raw = answer.strip()
    if len(raw) > MAX_NORMALIZE_CHARS:  # never cache or normalise megabyte strings
        return Prepared(raw, raw, raw, None, f"longer than {MAX_NORMALIZE_CHARS} characters")
    return _prepare(raw)


@lru_cache(maxsize=131_072)
def _prepare(raw: str) -> Prepared:
    norm = normalize_math(raw)
    problem = size_problem(norm)
    if problem:
        return Prepared(raw, norm, norm, None, problem)
    key = strip_labels(norm)
    relation = bool(_RELATION_RE.search(norm))
    last_side = last_value = None
    if relation and "," not in norm and ";" not in norm:
        sides = split_top_level(norm, "=")
        if len(sides) >= 2 and sides[-1].strip() and not _RELATION_RE.search(sides[-1]):
            last_side = sides[-1].strip()
            last_value = exact_value(last_side)
    return Prepared(
        raw, norm, key, exact_value(key), None, relation, answer_shape(key), last_side, last_value
    )


def quick_verdict(gold: Prepared, pred: Prepared) -> tuple[bool, str] | None:
    """The verdict when it needs no symbolic work, else None."""
    if not pred.norm:
        return False, "empty answer"
    if pred.raw == gold.raw:
        return True, "exact match"
    if pred.norm == gold.norm:
        return True, "same after normalisation"
    if pred.too_large or gold.too_large:
        which = "answer" if pred.too_large else "gold"
        return False, f"{which} too large to compare ({pred.too_large or gold.too_large})"
    if pred.key == gold.key:
        return True, "same after normalisation (variable labels ignored)"
    based = _base_numeral_verdict(gold, pred)
    if based is not None:
        return based
    if gold.value is not None and pred.value is not None:
        if gold.value == pred.value:
            return True, "same exact value"
        return False, "different value"
    if {gold.shape, pred.shape} == {"one", "many"}:
        return False, "one value against several (a tuple, set, interval or list)"
    if pred.last_side is not None and not gold.relation:
        # "29 \\cdot 7 = 203" states 203; a plain gold is compared with that last side, as
        # Math-Verify (and the worker) do.
        if pred.last_side in (gold.key, gold.norm):
            return True, "same as the last side of the stated equation"
        if gold.value is not None and pred.last_value is not None:
            if gold.value == pred.last_value:
                return True, "same exact value as the last side of the stated equation"
            return False, "the last side of the stated equation has a different value"
        if {gold.shape, answer_shape(pred.last_side)} == {"one", "many"}:
            return False, "one value against several (the last side of the stated equation)"
    if not gold.relation:
        # Plain arithmetic (numbers, roots, pi, variables) evaluated here: most wrong answers
        # are disproved without a worker. Only ever "not equivalent" (arithmetic.py).
        side = pred.last_side if pred.relation else pred.norm
        if side is not None and values_differ(gold.norm, side):
            if pred.relation:
                return False, "the last side of the stated equation has a different value"
            return False, "different value (evaluated at fixed points)"
    elif not pred.relation and gold.key != gold.norm and not _RELATION_RE.search(gold.key):
        # "y = 2x+3" against a plain answer: the worker compares the labelled value
        if values_differ(gold.key, pred.norm):
            return False, "different value (evaluated at fixed points)"
    if parts_differ(gold.norm, pred.norm):
        return False, "different parts (evaluated at fixed points)"
    if (is_word(pred.norm) and _is_number(gold)) or (is_word(gold.norm) and _is_number(pred)):
        return False, "a word is not a number"
    return None


_DIGITS_RE = re.compile(r"^[0-9A-Za-z]+$")


def _base_numeral_verdict(gold: Prepared, pred: Prepared) -> tuple[bool, str] | None:
    """A base-b gold (``52_8``) asks for the numeral: its digits, with or without the base
    (``52``, ``52_{8}``), are the answer; the decimal value (``42``) is not."""
    if not (isinstance(gold.value, tuple) and gold.value[0] == "base"):
        return None
    _, digits, base = gold.value
    if isinstance(pred.value, tuple) and pred.value[0] == "base":
        return None  # two numerals: compared as exact values
    if not _DIGITS_RE.match(pred.key):
        return None
    if pred.key.upper().lstrip("0") == digits.lstrip("0"):
        return True, f"same numeral as the base-{base} gold"
    return False, f"not the gold's base-{base} numeral"


def _is_number(answer: Prepared) -> bool:
    return isinstance(answer.value, tuple) and answer.value[0] == "num"


class _VerdictCache:
    """Thread-safe LRU of symbolic verdicts keyed by the two normalised strings."""

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[tuple[str, str], tuple[bool, str, float | None]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], timeout: float) -> tuple[bool, str] | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            correct, reason, timed_out_at = hit
            if timed_out_at is not None and timeout > timed_out_at:
                return None  # a longer budget may now succeed
            self._data.move_to_end(key)
            return correct, reason

    def put(self, key: tuple[str, str], verdict: tuple[bool, str], timed_out_at: float | None):
        with self._lock:
            self._data[key] = (*verdict, timed_out_at)
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


_CACHE = _VerdictCache(VERDICT_CACHE_SIZE)


def _failure_reason(payload: object, timeout: float) -> str:
    if payload == "timeout":
        return f"comparison timed out after {timeout:g} s: treated as not equivalent"
    if payload == "worker crashed":
        return "comparison crashed its worker process: treated as not equivalent"
    return f"comparison failed ({payload}): treated as not equivalent"


TASKS_PER_WORKER = 32
"""A worker more only for this many more symbolic comparisons: each new worker builds its
own parser tables, which a handful of comparisons does not repay."""


def local_verdict(
    gold: Prepared, pred: Prepared, timeout: float
) -> tuple[bool, str] | None:
    """The verdict this process can give (quick checks, or a remembered symbolic verdict);
    None when the pair needs a worker."""
    verdict = quick_verdict(gold, pred)
    if verdict is None:
        verdict = _CACHE.get((gold.norm, pred.norm), timeout)
    return verdict


def decide_many(
    pairs: Sequence[tuple[Prepared, Prepared]],
    timeout: float,
    workers: int | None = None,
    local: Sequence[tuple[bool, str] | None] | None = None,
) -> list[tuple[bool, str]]:
    """Verdicts for (gold, answer) pairs, in order; symbolic work deduplicated and parallel.

    ``local``: the pairs' ``local_verdict`` results, when the caller already has them.
    Workers are started only if some pair needs one, and no more than the work needs.
    """
    out: list[tuple[bool, str] | None] = [None] * len(pairs)
    needed: dict[tuple[str, str], list[int]] = {}
    for i, (gold, pred) in enumerate(pairs):
        verdict = local[i] if local is not None else local_verdict(gold, pred, timeout)
        if verdict is None:
            needed.setdefault((gold.norm, pred.norm), []).append(i)
        else:
            out[i] = verdict
    if needed:
        keys = sorted(needed)  # same gold next to each other: one worker parses it once
        pool = get_pool(workers)
        enough = max(1, -(-len(keys) // TASKS_PER_WORKER))
        try:
            results = pool.run(
                [("compare", key) for key in keys],
                timeout=timeout,
                max_workers=min(workers or pool.size, enough),
            )
        except Exception as exc:  # noqa: BLE001 - the caller never sees an exception
            results = [(False, f"pool error {type(exc).__name__}")] * len(keys)
        for key, (ok, payload) in zip(keys, results, strict=True):
            if ok and isinstance(payload, tuple):
                verdict = (bool(payload[0]), str(payload[1]))
                _CACHE.put(key, verdict, None)
            else:
                verdict = (False, _failure_reason(payload, timeout))
                if payload == "timeout":
                    _CACHE.put(key, verdict, timeout)
            for i in needed[key]:
                out[i] = verdict
    return [v if v is not None else (False, "internal error") for v in out]
