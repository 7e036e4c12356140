"""Synthetic multi-step arithmetic word problems: the task of the toy TTS world.

Why a synthetic task: a benchmark harness needs an evaluation that runs anywhere (no hub, no
GPU) in minutes and in which test-time compute visibly buys accuracy. Problems here are
generated deterministically from a seed, have exact gold answers, and every solution step can be
checked exactly, which gives free, noise-free process labels for a PRM.

The text format is deliberately compact and regular so that sub-10M-parameter models learn it:

    problem:  "Tom has 37 apples. He buys 25 more. Then he gives away 18.
               How many apples does he have?"          (one line)
    solution: "37+25=62\\n62-18=44\\nThe answer is \\\\boxed{44}"

The text a model sees before its solution is ``format_prompt(problem)``, i.e.
``"Problem: <problem>\\nSolution:\\n"``; the models were trained on exactly that.

Only the standard library is imported: lm-eval task utils and tests use this module without torch.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tts_eval.verifiers.presets import split_lines

__all__ = [
    "EVAL_SEED",
    "LEVELS",
    "PROMPT_TEMPLATE",
    "STEP_TAG",
    "WORKED_STYLES",
    "check_steps",
    "format_prm_input",
    "format_prompt",
    "load_problems",
    "make_problems",
    "noisy_solution",
    "parse_step",
    "split_steps",
    "write_eval_set",
]

#: Seed of the published evaluation split. Training seeds live in another namespace (the
#: generator's random stream is keyed by ``split:seed:level``), so the two never share a stream;
#: training additionally drops any problem whose text occurs in the evaluation split.
EVAL_SEED = 20_240_501

#: The exact text a generator sees before its solution (trained on this, nothing else).
PROMPT_TEMPLATE = "Problem: {problem}\nSolution:\n"

#: Problems per level in the ``arith_tts`` task (``EVAL_SEED``): what ``toy-oracle`` knows.
ARITH_TTS_PROBLEMS_PER_LEVEL = 100

#: Step separator of the PRM, the same string Qwen2.5-Math-PRM uses (``<extra_0>``). In the toy
#: tokenizer it is a single special token; the PRM scores the position of each occurrence.
STEP_TAG = "<extra_0>"

ANSWER_LINE = "The answer is \\boxed{{{answer}}}"

#: Ways to write a worked solution: (prefix of the first equation line, of each later one).
#: ``{i}`` is the step number. Several ways split a model's probability over several openings,
#: as the phrasings of real chains of thought do (see ``tts_eval.toy.train``).
WORKED_STYLES: dict[str, tuple[str, str]] = {
    "plain": ("", ""),
    "first-then": ("First ", "Then "),
    "numbered": ("Step {i}: ", "Step {i}: "),
    "so": ("So ", "So "),
}

# --- vocabulary of the templates (the toy tokenizer makes each word a single token) ---
NAMES_HE = ("Tom", "Bob", "Sam", "Max")
NAMES_SHE = ("Ann", "Eva", "Mia", "Zoe")
ITEMS = ("apples", "coins", "books", "cards", "pens", "stamps", "shells", "marbles")
PHRASES: dict[str, tuple[str, ...]] = {
    "+": ("buys {q} more", "finds {q} more", "gets {q} more"),
    "-": ("gives away {q}", "loses {q}", "sells {q}"),
    "*": ("ends up with {q} times as many",),
    "/": ("splits them into {q} equal piles and keeps one pile",),
}


@dataclass(frozen=True)
class Level:
    """Difficulty knobs of one level: why each level is harder than the one before.

    More steps (errors compound), larger numbers (more digits to get right), and more kinds of
    operation (multiplication and exact division are harder for small models than +/-).
    """

    steps: int
    ops: tuple[str, ...]
    start: tuple[int, int]
    add: tuple[int, int]
    mul: tuple[int, int]
    max_value: int


LEVELS: dict[int, Level] = {
    1: Level(steps=1, ops=("+", "-"), start=(2, 20), add=(1, 9), mul=(2, 2), max_value=29),
    2: Level(steps=2, ops=("+", "-"), start=(10, 50), add=(1, 9), mul=(2, 2), max_value=59),
    3: Level(steps=3, ops=("+", "-"), start=(10, 99), add=(2, 20), mul=(2, 2), max_value=99),
    4: Level(steps=4, ops=("+", "-", "*"), start=(10, 99), add=(2, 30), mul=(2, 4),
             max_value=99),
    5: Level(steps=5, ops=("+", "-", "*", "/"), start=(20, 199), add=(5, 50), mul=(2, 5),
             max_value=199),
}

_STEP_RE = re.compile(
    r"^\s*(?:(?:First|Then|So|Step\s*\d+:)\s*)?(\d+)\s*([-+*/])\s*(\d+)\s*=\s*(-?\d+)\s*$"
)
_ANSWER_LINE_RE = re.compile(r"^\s*The answer is \\boxed\{\s*(-?\d+)\s*\}\s*\.?\s*$")


def _apply(a: int, op: str, b: int) -> int | None:
    """Exact integer result of ``a op b``; None where the toy world has no integer answer."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a // b if b != 0 and a % b == 0 else None
    raise ValueError(f"unknown operation {op!r}")


def _rng(split: str, seed: int, level: int) -> random.Random:
    # str seeds are hashed with sha512 by `random`: stable across runs, platforms, and versions.
    return random.Random(f"tts-eval-toy:{split}:{seed}:{level}")


def _pick_op(rng: random.Random, lv: Level, x: int) -> tuple[str, int]:
    """Choose a valid (operation, operand) for running value ``x`` under the level's limits."""
    ops = list(lv.ops)
    rng.shuffle(ops)
    for op in ops:
        if op == "+":
            hi = min(lv.add[1], lv.max_value - x)
            if hi >= lv.add[0]:
                return op, rng.randint(lv.add[0], hi)
        elif op == "-":
            hi = min(lv.add[1], x - 1)  # keep the count positive
            if hi >= lv.add[0]:
                return op, rng.randint(lv.add[0], hi)
        elif op == "*":
            hi = min(lv.mul[1], lv.max_value // max(x, 1))
            if hi >= lv.mul[0]:
                return op, rng.randint(lv.mul[0], hi)
        elif op == "/":
            divs = [d for d in range(lv.mul[0], lv.mul[1] + 1) if x % d == 0 and x // d >= 2]
            if divs:
                return op, rng.choice(divs)
    raise RuntimeError("no valid operation")  # unreachable: '-' or '+' always fits


def _one_problem(rng: random.Random, level: int) -> dict:
    lv = LEVELS[level]
    he = rng.random() < 0.5
    name = rng.choice(NAMES_HE if he else NAMES_SHE)
    pron = "he" if he else "she"
    item = rng.choice(ITEMS)
    x = rng.randint(*lv.start)
    sentences = [f"{name} has {x} {item}."]
    steps: list[str] = []
    for i in range(lv.steps):
        op, q = _pick_op(rng, lv, x)
        phrase = rng.choice(PHRASES[op]).format(q=q)
        sentences.append(f"{pron.capitalize()} {phrase}." if i == 0 else f"Then {pron} {phrase}.")
        y = _apply(x, op, q)
        assert y is not None
        steps.append(f"{x}{op}{q}={y}")
        x = y
    sentences.append(f"How many {item} does {pron} have?")
    answer = str(x)
    return {
        "problem": " ".join(sentences),
        "steps": steps,
        "answer": answer,
        "solution": "\n".join([*steps, ANSWER_LINE.format(answer=answer)]),
        "level": level,
    }


def make_problems(n: int, level: int, seed: int, *, split: str = "eval") -> list[dict]:
    """Generate ``n`` problems of difficulty ``level`` (1-5), deterministically from ``seed``.

    Each dict has ``id``, ``problem``, ``solution``, ``steps`` (the equation lines, without the
    final answer line), ``answer`` (integer as str) and ``level``. ``split`` keys the random
    stream: training uses ``split="train"`` so its problems come from a stream the evaluation
    split (``split="eval"``, seed ``EVAL_SEED``) never draws from.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, got {level!r}")
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = _rng(split, seed, level)
    out = []
    for i in range(n):
        p = _one_problem(rng, level)
        out.append({"id": f"{split}-s{seed}-L{level}-{i:05d}", **p})
    return out


def write_eval_set(
    path: str | Path,
    per_level: int = 100,
    seed: int = EVAL_SEED,
    levels: Iterable[int] = (1, 2, 3, 4, 5),
) -> str:
    """Write the evaluation split as JSONL (one problem per line) and return its sha256.

    The hash is what a run records as its dataset hash; the same arguments always give the same
    bytes, so the file need not be shipped: anyone can regenerate it.
    """
    lines = []
    for level in levels:
        for p in make_problems(per_level, level, seed, split="eval"):
            lines.append(json.dumps(p, sort_keys=True, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def load_problems(path: str | Path) -> list[dict]:
    """Read a JSONL split written by ``write_eval_set``."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def format_prompt(problem: dict | str) -> str:
    """The exact text a toy generator sees before its solution."""
    text = problem["problem"] if isinstance(problem, dict) else problem
    return PROMPT_TEMPLATE.format(problem=text)


def parse_step(line: str) -> tuple[int, str, int, int] | None:
    """Parse an equation line ``a<op>b=c`` (with a ``WORKED_STYLES`` prefix); else None."""
    m = _STEP_RE.match(line)
    if not m:
        return None
    return int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))


def _gold_ops(problem: dict) -> list[tuple[int, str, int, int]]:
    gold = [parse_step(s) for s in problem["steps"]]
    if any(g is None for g in gold):
        raise ValueError(f"problem {problem.get('id')} has malformed gold steps")
    return gold  # type: ignore[return-value]


def _segments(ops: Sequence[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    """The problem's operations grouped into segments whose order inside is free.

    A maximal run of ``+``/``-`` operations may be done in any order (the total is the same); a
    ``*`` or ``/`` must come exactly where the problem states it.
    """
    segs: list[list[tuple[str, int]]] = []
    for op, q in ops:
        if op in "+-" and segs and segs[-1][0][0] in "+-":
            segs[-1].append((op, q))
        else:
            segs.append([(op, q)])
    return segs


def check_steps(problem: dict, solution_text: str) -> list[bool]:
    """Exact correctness label of every non-empty line of a generated solution.

    A step line is right when it does one of the problem's operations that may come next (inside
    a run of ``+``/``-`` any order is fine, ``*`` and ``/`` stay where the problem puts them) to
    the true running value, with its exact result, and the count stays positive (``+``/``*``
    may swap operands). An answer line ``The answer is \\boxed{N}`` is right when N is the gold
    answer (with or without working before it). Labels are prefix labels, as Qwen-style PRMs
    are trained on: after the first wrong line, and after the answer line, every line is wrong,
    even if slips cancel out later.
    """
    gold = _gold_ops(problem)
    pending = _segments([(op, q) for _, op, q, _ in gold])
    value = gold[0][0]
    lines = [ln for ln in solution_text.split("\n") if ln.strip()]
    labels: list[bool] = []
    answered = False
    for line in lines:
        answer = _ANSWER_LINE_RE.match(line)
        if answered or (labels and not labels[-1]):
            labels.append(False)
        elif answer:
            labels.append(str(int(answer.group(1))) == problem["answer"])
            answered = True
        else:
            step = parse_step(line)
            labels.append(_advance(pending, value, step))
            if labels[-1]:
                value = step[3]  # type: ignore[index]
    return labels


def _advance(pending: list[list[tuple[str, int]]], value: int,
             step: tuple[int, str, int, int] | None) -> bool:
    """Whether ``step`` does a next operation right from ``value``; if so, mark it done."""
    if step is None or not pending:
        return False
    a, op, b, c = step
    segment = pending[0]
    for j, (gop, q) in enumerate(segment):
        operands_ok = (a, b) == (value, q) or (op in "+*" and (b, a) == (value, q))
        if op == gop and operands_ok and c > 0 and _apply(value, op, q) == c:
            del segment[j]
            if not segment:
                del pending[0]
            return True
    return False


def split_steps(solution_text: str) -> list[str]:
    """The step lines of a solution (non-empty lines), as ``check_steps`` labels them: the
    steps the toy PRM preset reads, so training and scoring split alike."""
    return split_lines(solution_text)


def format_prm_input(problem: dict | str, steps: Sequence[str]) -> str:
    """PRM input: the generator prompt, then every step followed by ``STEP_TAG`` and a newline.

    The toy PRM is trained on exactly this (and on the Qwen2.5-Math-PRM variant without the
    newline); vLLM returns one (wrong, right) probability pair per ``STEP_TAG`` occurrence.
    """
    return format_prompt(problem) + "".join(f"{s}{STEP_TAG}\n" for s in steps)


def _chain_ok(x: int, rest: Sequence[tuple[str, int]]) -> bool:
    if x <= 0:
        return False
    for op, b in rest:
        y = _apply(x, op, b)
        if y is None or y <= 0:
            return False
        x = y
    return True


def noisy_solution(problem: dict, rng: random.Random, p_error: float,
                   style: str = "plain") -> str:
    """A worked solution of ``problem`` in which each step's result slips with rate ``p_error``.

    ``style`` is one of ``WORKED_STYLES``. Why slips: models trained on them make varied,
    plausible mistakes, and PRM training data needs wrong steps that look like real ones. A
    slip is a small offset (+-1, +-2, +-10, ...) carried forward consistently; before an exact
    division it is a multiple of the divisor so that later steps stay integral.
    """
    gold = _gold_ops(problem)
    x = gold[0][0]
    lines = []
    for i, (_, op, b, _) in enumerate(gold):
        y = _apply(x, op, b)
        if y is None:  # cannot happen: slips keep every later division exact (see below)
            raise AssertionError("inexact division in noisy solution")
        shown = y
        if rng.random() < p_error:
            # A multiple of every later divisor keeps later divisions exact (a '*' in between
            # only multiplies the offset); the rest of the chain must stay positive.
            unit = math.lcm(1, *(g[2] for g in gold[i + 1 :] if g[1] == "/"))
            for _ in range(20):
                mag = rng.choice((1, 2)) if unit > 1 else rng.choice((1, 1, 2, 3, 10, 10, 20, 100))
                cand = y + unit * mag * rng.choice((-1, 1))
                if _chain_ok(cand, [(g[1], g[2]) for g in gold[i + 1 :]]):
                    shown = cand
                    break
        prefix = WORKED_STYLES[style][0 if i == 0 else 1].format(i=i + 1)
        lines.append(f"{prefix}{x}{op}{b}={shown}")
        x = shown
    lines.append(ANSWER_LINE.format(answer=x))
    return "\n".join(lines)
