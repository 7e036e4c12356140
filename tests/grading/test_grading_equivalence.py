"""Answer equivalence under the MATH convention (shared/data/README.md), and the public API."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tts_eval.grading import (
    KINDS,
    Grade,
    cluster_answers,
    grade,
    grade_many,
    same_answer,
)
from tts_eval.grading.pool import get_pool

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shared_data() -> Path:
    env = os.environ.get("TTS_EVAL_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    if not (path / "answer_equivalence.jsonl").exists():
        pytest.skip(f"shared data not found at {path} (set TTS_EVAL_SHARED_DATA)")
    return path


def test_labelled_set_agreement(shared_data: Path) -> None:
    rows = [json.loads(line) for line in (shared_data / "answer_equivalence.jsonl").open()]
    grades = grade_many([(r["pred"], r["gold"]) for r in rows])
    disagreements = [
        (r, g) for r, g in zip(rows, grades, strict=True) if g.correct != r["equivalent"]
    ]
    for r, g in disagreements:
        print(
            f"{r['id']} label={r['equivalent']} ours={g.correct} gold={r['gold']!r} "
            f"extracted={g.extracted!r} reason={g.reason!r}"
        )
    agreement = 1 - len(disagreements) / len(rows)
    print(f"agreement {agreement:.2%} on {len(rows)} labelled pairs")
    assert len(rows) == 298
    assert agreement >= 0.98


# (answer, gold, equivalent) under the MATH convention
CONVENTION = [
    # exact values only
    ("0.5", r"\frac12", True),
    (r"0.\overline{3}", r"\frac13", True),
    (r"0.1\overline{6}", r"\frac16", True),
    ("0.333", r"\frac13", False),
    ("0.333333", r"\frac13", False),
    ("4.67", r"\frac{14}{3}", False),
    ("904.78", r"288\pi", False),
    ("2.625", r"2\frac58", True),
    ("1 1/2", "1.5", True),
    # presentation does not matter
    (r"\dfrac{1}{2}", r"\frac12", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})", True),
    (r"12,\!000,\!003", "12000003", True),
    ("10000", "10{,}000", True),
    ("1 000", "1000", True),
    (r"\$5.50", "5.5", True),
    (r"5\text{ cm}^2", "5", True),
    ("125 miles", "125", True),
    (r"90^\circ", "90", True),
    ("90 degrees", r"90^{\circ}", True),
    (r"28\%", "28", True),
    ("28 percent", r"28\%", True),
    ("x=5", "5", True),
    ("5", "k=5", True),
    (r"f(x) = 2x+3", "y = 2x+3", True),
    (r"\text{(C)}", r"\text{C}", True),
    (r"\mathrm{Evelyn}", r"\text{Evelyn}", True),
    (r"\sqrt 2+\sqrt 5", r"\sqrt{2}+\sqrt{5}", True),
    # order matters for tuples, intervals, matrices; not for lists of solutions and sets
    ("(1,2)", "(2,1)", False),
    ("[1,2)", "(1,2]", False),
    ("(0,1)", "[0,1)", False),
    ("2,1", "1,2", True),
    (r"\{3,1,2\}", r"\{1,2,3\}", True),
    ("(2,1),(1,2)", "(1,2),(2,1)", True),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{bmatrix}1&3\\2&4\end{bmatrix}", False),
    (
        r"\begin{pmatrix}1&0.5\\1/3&4\end{pmatrix}",
        r"\begin{pmatrix}1&\frac12\\\frac13&4\end{pmatrix}",
        True,
    ),
    # a missing or an extra root is wrong
    ("1", "1,2", False),
    ("1,2,3", "1,2", False),
    ("2", r"\pm 2", False),
    ("-2, 2", r"\pm 2", True),
    (r"x = 5 \text{ or } x = 3", "x=5", False),
    # symbolic equivalence
    (r"3\sqrt{13}", r"\sqrt{117}", True),
    ("(x+1)^2", "x^2+2x+1", True),
    ("x^2+2x", "x^2+2x+1", False),
    (r"\frac{x}{7}+\frac{2}{7}", r"\frac{x+2}{7}", True),
    ("i(2-i)", "1+2i", True),
    (r"-\frac{1}{2}x+\frac{3}{4}", "2x+4y-3=0", False),
    (r"y=-\frac{1}{2}x+\frac{3}{4}", "2x+4y-3=0", True),
    # a base-b gold asks for the numeral: its digits, with or without the base, not the
    # decimal value (MATH writes 52_8 for the octal numeral 52, which is 42)
    ("204", "204_5", True),
    ("54", "204_5", False),
    ("4210_{7}", "4210_7", True),
    ("52", "52_8", True),
    ("52_{8}", "52_8", True),
    ("(52)_8", "52_8", True),
    ("42", "52_8", False),
    ("101010_2", "52_8", False),  # the same number in another base is another numeral
    ("1a", "1A_{16}", True),
    ("52_8", "52", False),  # a base-10 gold: 52_8 is 42
    # clock times
    (r"4:30 \text{ p.m.}", r"\text{16:30}", True),
    ("1:00", "12:00", False),
    ("20:34:00", "20:34", True),
    # text answers
    (r"\text{oddd}", "odd", False),
    ("Even", r"\text{Even}", True),
]


@pytest.mark.parametrize(("answer", "gold", "expected"), CONVENTION)
def test_convention(answer: str, gold: str, expected: bool) -> None:
    g = grade(f"The answer is $\\boxed{{{answer}}}$.", gold)
    assert g.correct is expected, g
    assert g.reason


def test_grade_fields_and_immutability() -> None:
    g = grade(r"so $\boxed{\frac{14}{3}}$", r"$\frac{14}{3}$")
    assert isinstance(g, Grade)
    assert (g.correct, g.extracted) == (True, r"\frac{14}{3}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.correct = False  # type: ignore[misc]


def test_no_answer_and_empty_gold_have_reasons() -> None:
    g = grade("I could not solve it. " * 30, "5")
    assert (g.correct, g.extracted) == (False, None)
    assert "no answer" in g.reason
    g = grade(r"\boxed{5}", "")
    assert g.correct is False and "gold" in g.reason


def test_grade_many_keeps_order_and_matches_grade() -> None:
    pairs = [
        (r"\boxed{4}", "4"),
        (r"\boxed{5}", "4"),
        (r"\boxed{\sqrt{8}}", r"2\sqrt{2}"),
        ("no answer here at all " * 20, "1"),
        (r"\boxed{(1,2)}", "(2,1)"),
    ]
    many = grade_many(pairs)
    assert [g.correct for g in many] == [True, False, True, False, False]
    assert many == [grade(r, g) for r, g in pairs]


def test_cheap_pairs_are_decided_without_a_worker() -> None:
    pool = get_pool()
    before = pool.stats["tasks"]
    pairs = [(f"The answer is $\\boxed{{{n},\\!000}}$.", f"{n}000") for n in range(200)]
    pairs += [(f"\\boxed{{\\dfrac{{{n}}}{{7}}}}", f"{n}/7") for n in range(200)]
    pairs += [(f"\\boxed{{{n}.5}}", f"\\frac{{{2 * n + 1}}}{{2}}") for n in range(200)]
    grades = grade_many(pairs)
    assert all(g.correct for g in grades)
    assert pool.stats["tasks"] == before


def test_repeated_symbolic_pairs_are_compared_once() -> None:
    pool = get_pool()
    before = pool.stats["tasks"]
    # 64 samples, three distinct answers (fresh strings: not cached yet): two equal to the
    # gold need sympy, once each; the wrong one is disproved by evaluation in this process
    answers = [r"\sqrt{48}", r"4\sqrt{3}", r"\sqrt{47}"] * 21 + [r"\sqrt{48}"]
    pairs = [(f"Sample {i}: so $\\boxed{{{a}}}$.", r"2\sqrt{12}") for i, a in enumerate(answers)]
    grades = grade_many(pairs)
    assert [g.correct for g in grades] == [a != r"\sqrt{47}" for a in answers]
    assert grades[2].reason == "different value (evaluated at fixed points)"
    assert pool.stats["tasks"] - before == 2


def test_integer_kind() -> None:
    assert grade(r"so \boxed{023}", "23", "integer").correct
    assert grade(r"so \boxed{23}", "023", "integer").correct
    assert grade(
        "Final Answer: The final answer is 23. I hope it is correct.", 23, "integer"
    ).correct  # type: ignore[arg-type]
    wrong = grade(r"\boxed{24}", "23", "integer")
    assert (wrong.correct, wrong.extracted) == (False, "24")
    g = grade(r"\boxed{\frac{1}{2}}", "23", "integer")
    assert g.correct is False and "not an integer" in g.reason


def test_choice_kind() -> None:
    assert grade("The correct answer is (C) 2.4 eV", "C", "choice").correct
    assert grade(r"\boxed{\text{(B)}}", "(B)", "choice").correct
    g = grade("Answer: A", "B", "choice")
    assert (g.correct, g.extracted) == (False, "A")
    g = grade("Answer: A", "carbon", "choice")
    assert g.correct is False and "not a choice letter" in g.reason


@pytest.mark.parametrize(
    ("a", "b", "kind", "expected"),
    [
        (r"\frac12", "0.5", "math", True),
        ("x=5", "5", "math", True),
        (r"2\sqrt{2}", r"\sqrt{8}", "math", True),
        ("1", "2", "math", False),
        ("(1,2)", "(2,1)", "math", False),
        ("023", "23", "integer", True),
        ("23", "24", "integer", False),
        ("(C)", r"\text{C}", "choice", True),
        ("C", "D", "choice", False),
    ],
)
def test_same_answer(a: str, b: str, kind: str, expected: bool) -> None:
    assert same_answer(a, b, kind) is expected


def test_same_answer_agrees_with_grade() -> None:
    """Metrics call same_answer(answer, gold): it must give grade's verdict."""
    for answer, gold in [
        (r"29 \cdot 7 = 203", "203"),
        ("{1,3}", "(3,1)"),
        (r"y=-\frac{1}{2}x+\frac{3}{4}", "2x+4y-3=0"),
        ("x=5", "5"),
        ("5", "x = 5"),
    ]:
        assert same_answer(answer, gold) is grade(f"$\\boxed{{{answer}}}$", gold).correct


def test_same_answer_none_is_never_the_same() -> None:
    assert same_answer(None, None) is False  # type: ignore[arg-type]
    assert same_answer("5", None) is False  # type: ignore[arg-type]


def test_cluster_answers_math() -> None:
    answers = [
        r"\frac{1}{2}",
        "0.5",
        None,
        r"\sqrt{8}",
        "3",
        r"2\sqrt{2}",
        r"\dfrac12",
        "x=3",
        "",
        "7",
    ]
    assert cluster_answers(answers) == [0, 0, -1, 1, 2, 1, 0, 2, -1, 3]


def test_cluster_answers_other_kinds() -> None:
    assert cluster_answers(["023", "23", "24", None, "24.0"], "integer") == [0, 0, 1, -1, 1]
    assert cluster_answers(["(C)", "C", "B", r"\text{(B)}", None], "choice") == [0, 0, 1, 1, -1]
    assert cluster_answers([]) == []


def test_cluster_answers_64_samples_is_fast_and_dedups() -> None:
    pool = get_pool()
    before = pool.stats["tasks"]
    answers = ([r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}", r"\frac{\sqrt{3}}{2}"] * 20) + [
        None
    ] * 4
    ids = cluster_answers(answers)
    assert ids[:3] == [0, 0, 1] and ids[-1] == -1
    # three distinct forms: at most the three pairs among them go to a worker
    assert pool.stats["tasks"] - before <= 3


@pytest.mark.parametrize(
    "call",
    [
        lambda: grade("1", "1", "numeric"),
        lambda: grade_many([("1", "1")], kind="Math"),
        lambda: same_answer("1", "1", "int"),
        lambda: cluster_answers(["1"], "letters"),
    ],
)
def test_unknown_kind_raises_with_valid_kinds(call) -> None:  # noqa: ANN001
    with pytest.raises(ValueError) as info:
        call()
    assert all(kind in str(info.value) for kind in KINDS)


def test_import_does_not_pull_heavy_dependencies() -> None:
    code = (
        "import sys, tts_eval.grading\n"
        "heavy = ('vllm', 'lm_eval', 'torch', 'transformers', 'sympy', 'math_verify')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True
    )
    assert out.stdout.strip() == ""
