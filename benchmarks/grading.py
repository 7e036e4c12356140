"""Benchmark: tts_eval's grader against Math-Verify on a realistic 500 x 32 workload.

The workload mimics a MATH-500 run with 32 samples per problem: every response is a long
reasoning text (the problem's own reference solution, made unique per sample) ending in a
final answer stated in one of the usual forms (``\\boxed{}``, "Final Answer: The final answer
is $X$. I hope it is correct.", "the answer is X", a closing ``$X$``). Answers repeat the way
sampled answers do: the correct answer in several notations, a few near misses, some junk,
and some responses with no answer. Each response carries a construction label (correct
notation or not), so both graders can also be checked against the truth.

Reports two ratios to Math-Verify's ``parse`` + ``verify`` per pair (gold parsed once per
problem, which favours Math-Verify), both measured in the same run:

* fresh process: a re-grading job as a user runs it, ``tts-eval grade FILE`` against a script
  doing Math-Verify on the same file, each a whole process (imports, worker start-up and
  warm-up included on both sides);
* steady state: inside one process with everything imported and the grading workers warm.

Then both graders' agreement with the labelled set shared/data/answer_equivalence.jsonl.

Run from the repository root (about 1.5 min, most of it Math-Verify)::

    .venv/bin/python benchmarks/grading.py [--problems 500] [--samples 32] [--mv-pairs 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def shared_data_dir() -> Path:
    env = os.environ.get("TTS_EVAL_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


# --------------------------------------------------------------------------- workload

_FRAC_RE = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")
_INT_RE = re.compile(r"^-?\d+$")


def correct_variants(gold: str) -> list[str]:
    """Other ways a model writes the gold answer (all exactly equivalent)."""
    out = [gold]
    if "\\frac" in gold:
        out.append(gold.replace("\\frac", "\\dfrac"))
    m = _FRAC_RE.match(gold)
    if m:
        sign, num, den = m.group(1), int(m.group(2)), int(m.group(3))
        out.append(f"{sign}{num}/{den}")
        value = Fraction(num, den)
        d, twos_fives = value.denominator, 0
        while d % 2 == 0 or d % 5 == 0:
            d //= 2 if d % 2 == 0 else 5
            twos_fives += 1
        if d == 1:  # a terminating decimal, written out exactly
            digits = value.numerator * 10**twos_fives // value.denominator
            text = f"{digits // 10**twos_fives}.{digits % 10**twos_fives:0{twos_fives}d}"
            out.append(sign + text.rstrip("0").rstrip("."))
    if _INT_RE.match(gold):
        n = int(gold)
        out.append(f"x = {n}")
        if abs(n) >= 1000:
            out.append(f"{n:,}")
        out.append(f"{n} \\text{{ units}}")
    if gold.startswith("(") and gold.endswith(")"):
        out.append("\\left" + gold[:-1] + "\\right)")
    if ", " in gold:
        out.append(gold.replace(", ", ","))
    if "\\text{" in gold:
        out.append(re.sub(r"\\text\{([^{}]*)\}", r"\1", gold))
    return out


def near_misses(gold: str, rng: random.Random) -> list[str]:
    """Plausible wrong answers (off by one, a digit, a sign, an order)."""
    out = []
    if _INT_RE.match(gold):
        n = int(gold)
        out += [str(n + 1), str(n - 1), str(-n) if n else "1", str(n * 2)]
    m = _FRAC_RE.match(gold)
    if m:
        num, den = int(m.group(2)), int(m.group(3))
        out += [f"\\frac{{{num + 1}}}{{{den}}}", f"\\frac{{{den}}}{{{num}}}"]
    digits = [i for i, c in enumerate(gold) if c.isdigit()]
    if digits:
        i = rng.choice(digits)
        out.append(gold[:i] + str((int(gold[i]) + rng.randint(1, 8)) % 10) + gold[i + 1 :])
    if gold.startswith("(") and "," in gold and not gold.startswith("(-\\infty"):
        out.append("[" + gold[1:])
    if not out:
        out.append(gold + "+1")
    return [o for o in out if o != gold]


_BOXED_RE = re.compile(r"\\boxed\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}")
_FORMATS = [
    "{r}\n\nTherefore, the answer is $\\boxed{{{a}}}$.",
    "{r}\nFinal Answer: The final answer is ${a}$. I hope it is correct.",
    "{r}\n\\[\n\\boxed{{{a}}}\n\\]",
    "{r}\nSo the answer is ${a}$.",
    "{r} Putting it together, $\\boxed{{{a}}}$ is the final answer.",
]
_LEVEL_P_CORRECT = {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.55, 5: 0.35}


def build_workload(
    problems: list[dict], samples: int, seed: int = 0
) -> tuple[list[tuple[str, str]], list[bool | None]]:
    """(response, gold) pairs and construction labels: True (a correct notation), False (a
    near miss), None (unknown: another problem's answer, or a truncated response)."""
    rng = random.Random(seed)
    golds = [p["answer"] for p in problems]
    pairs: list[tuple[str, str]] = []
    labels: list[bool | None] = []
    for problem in problems:
        gold = problem["answer"]
        reasoning = _BOXED_RE.sub(r"\1", problem["solution"])
        p_correct = _LEVEL_P_CORRECT.get(problem.get("level", 3), 0.6)
        notations = correct_variants(gold)
        weights = [0.6] + [0.4 / max(1, len(notations) - 1)] * (len(notations) - 1)
        misses = near_misses(gold, rng)[:3]
        for k in range(samples):
            text = (
                f"Let me work through this carefully (attempt {k + 1}, seed {rng.random():.6f}).\n"
            )
            text += reasoning * rng.choice([1, 1, 2, 3])
            u = rng.random()
            if u < p_correct:
                answer, label = rng.choices(notations, weights)[0], True
            elif u < p_correct + (1 - p_correct) * 0.7:
                answer, label = rng.choice(misses), False
            elif u < p_correct + (1 - p_correct) * 0.9:
                answer, label = rng.choice(golds), None  # another problem's answer
            else:  # ran out of tokens: truncated reasoning, whatever its last formula says
                pairs.append((text[: rng.randint(len(text) // 3, len(text))], gold))
                labels.append(None)
                continue
            pairs.append((rng.choice(_FORMATS).format(r=text, a=answer), gold))
            labels.append(label)
    return pairs, labels


# --------------------------------------------------------------------------- graders


def math_verify_grade(pairs: list[tuple[str, str]]) -> list[bool]:
    """Math-Verify as documented: parse gold ($-wrapped) and response, then verify."""
    from math_verify import parse, verify

    gold_cache: dict[str, object] = {}
    out = []
    for response, gold in pairs:
        if gold not in gold_cache:
            gold_cache[gold] = parse(_wrap(gold))
        out.append(bool(verify(gold_cache[gold], parse(response))))
    return out


def _wrap(answer: str) -> str:
    """Math-Verify needs bare answers wrapped in $...$ (how its 95.0% was measured)."""
    if any(m in answer for m in ("$", "\\(", "\\[", "\\boxed")):
        return answer
    return f"${answer}$"


def labelled_agreement(data_dir: Path) -> tuple[float, float, int]:
    from tts_eval.grading import grade_many

    rows = [json.loads(line) for line in (data_dir / "answer_equivalence.jsonl").open()]
    ours = grade_many([(r["pred"], r["gold"]) for r in rows])
    from math_verify import parse, verify

    mv = [
        bool(
            verify(
                parse(_wrap(r["gold"])),
                parse(_wrap(r["pred"]) if r["pred_kind"] == "answer" else r["pred"]),
            )
        )
        for r in rows
    ]
    ours_ok = sum(g.correct == r["equivalent"] for g, r in zip(ours, rows, strict=True))
    mv_ok = sum(v == r["equivalent"] for v, r in zip(mv, rows, strict=True))
    return ours_ok / len(rows), mv_ok / len(rows), len(rows)


_MATH_VERIFY_SCRIPT = r"""
import json, logging, sys, time
from math_verify import parse, verify
logging.getLogger("math_verify").setLevel(logging.ERROR)

def wrap(answer):
    if any(m in answer for m in ("$", "\\(", "\\[", "\\boxed")):
        return answer
    return f"${answer}$"

golds, verdicts = {}, []
with open(sys.argv[1], encoding="utf-8") as rows:
    for line in rows:
        row = json.loads(line)
        if row["gold"] not in golds:
            golds[row["gold"]] = parse(wrap(row["gold"]))
        verdicts.append(bool(verify(golds[row["gold"]], parse(row["response"]))))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(verdicts, out)
"""


def _timed_process(argv: list[str]) -> float:
    """Wall-clock seconds of one whole process, interpreter start to exit."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def fresh_process(pairs: list[tuple[str, str]], workdir: Path) -> tuple[float, float, list[bool]]:
    """Re-grade the workload as a user would, once with each grader, each in a new process
    (imports, worker start-up and warm-up included): ``tts-eval grade FILE`` against a script
    that runs Math-Verify's ``parse`` + ``verify`` on every row (gold parsed once per problem,
    which favours Math-Verify). Returns both times and our verdicts."""
    rows = workdir / "samples_math500.jsonl"
    with rows.open("w", encoding="utf-8") as handle:
        for response, gold in pairs:
            handle.write(json.dumps({"response": response, "gold": gold}) + "\n")
    ours_out, mv_out = workdir / "ours.jsonl", workdir / "math_verify.json"
    ours = _timed_process(
        [sys.executable, "-m", "tts_eval.grading", str(rows), "--kind", "math",
         "--out", str(ours_out)]
    )
    mv = _timed_process([sys.executable, "-c", _MATH_VERIFY_SCRIPT, str(rows), str(mv_out)])
    verdicts = [json.loads(line)["correct"] for line in ours_out.open()]
    mv_verdicts = json.loads(mv_out.read_text())
    same = sum(a == b for a, b in zip(verdicts, mv_verdicts, strict=True)) / len(verdicts)
    print(f"  verdicts: ours and math_verify agree on {same:.2%} of the rows")
    return ours, mv, verdicts


def steady_state(
    pairs: list[tuple[str, str]], warm_pairs: list[tuple[str, str]], mv_pairs: int, seed: int
) -> tuple[float, float, int]:
    """In one process with everything imported and the grading workers up and warm (a
    different workload graded first): pairs/s of ``grade_many`` and of Math-Verify."""
    from tts_eval.grading import grade_many

    grade_many(warm_pairs)  # starts and warms the workers; its verdicts are not reused
    start = time.perf_counter()
    grade_many(pairs)
    ours_rate = len(pairs) / (time.perf_counter() - start)

    rng = random.Random(seed)
    sample = rng.sample(pairs, min(mv_pairs, len(pairs)))
    math_verify_grade(sample[:50])  # imports and first parses
    start = time.perf_counter()
    math_verify_grade(sample)
    mv_rate = len(sample) / (time.perf_counter() - start)
    return ours_rate, mv_rate, len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--mv-pairs", type=int, default=3000,
                        help="Math-Verify subsample for the steady-state rate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import logging

    logging.getLogger("math_verify").setLevel(logging.ERROR)

    data = shared_data_dir()
    problems = [json.loads(line) for line in (data / "math500.jsonl").open()][: args.problems]
    pairs, labels = build_workload(problems, args.samples, args.seed)
    distinct = len({(r.rsplit("\n", 1)[-1], g) for r, g in pairs})
    chars = sum(len(r) for r, _ in pairs) / len(pairs)
    print(
        f"workload: {len(pairs)} pairs ({args.problems} problems x {args.samples} samples), "
        f"mean response {chars:.0f} chars, {distinct} distinct final lines"
    )
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run "
        "(other work slows the parallel grader more than the serial one)"
    )

    print("fresh process (a re-grading job: interpreter, imports and start-up included):")
    with tempfile.TemporaryDirectory() as tmp:
        ours_s, mv_s, verdicts = fresh_process(pairs, Path(tmp))
    print(f"  tts-eval grade: {ours_s:.1f} s; math_verify parse+verify: {mv_s:.1f} s; "
          f"ratio {mv_s / ours_s:.1f}x")

    known = [i for i, label in enumerate(labels) if label is not None]
    truth = sum(verdicts[i] == labels[i] for i in known) / len(known)
    print(f"  ours agrees with the construction labels on {truth:.2%} of {len(known)} rows")

    print("steady state (one process, imports done, workers up and warm):")
    warm, _ = build_workload(problems, 2, args.seed + 2)
    ours_rate, mv_rate, mv_n = steady_state(pairs, warm, args.mv_pairs, args.seed + 1)
    print(f"  grade_many: {ours_rate:,.0f} pairs/s; math_verify: {mv_rate:,.1f} pairs/s "
          f"(random subsample of {mv_n}); ratio {ours_rate / mv_rate:.1f}x")

    ours_acc, mv_acc, n = labelled_agreement(data)
    print(f"labelled set ({n} pairs): agreement ours {ours_acc:.2%}, math_verify {mv_acc:.2%}")


if __name__ == "__main__":
    main()
