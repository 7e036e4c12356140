"""Hostile and pathological answers: nothing is executed, everything is bounded, and the
worker pool survives timeouts and crashes without the caller ever seeing an exception."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tts_eval.grading import (
    DEFAULT_TIMEOUT,
    cluster_answers,
    extract_answer,
    grade,
    grade_many,
    same_answer,
)
from tts_eval.grading.pool import WorkerPool, get_pool

REPO = Path(__file__).resolve().parents[2]

# "{c}" is replaced by the canary path. Every template would create the canary (or read a
# file) if any parser path handed it to eval/exec/sympify/parse_expr.
HOSTILE = [
    "__import__('os').system('touch {c}')",
    '__import__("os").system("touch {c}")',
    "exec(\"open('{c}','w').write('x')\")",
    "eval(\"__import__('os').system('touch {c}')\")",
    "(lambda: __import__('os').system('touch {c}'))()",
    "(lambda f: f(f))(lambda f: __import__('os').system('touch {c}'))",
    "().__class__.__bases__[0].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
    "._module.__builtins__['__import__']('os').system('touch {c}')",
    "open('{c}', 'w').write('pwned')",
    "__import__('pathlib').Path('{c}').touch()",
    "__import__('subprocess').call(['touch', '{c}'])",
    "Symbol('x').__class__.__init__.__globals__['__builtins__']['exec'](\"open('{c}','w')\")",
    "getattr(__builtins__, 'exec')(\"open('{c}','w')\")",
    "globals()['__builtins__'].exec(\"open('{c}','w')\")",
    "compile('open(\"{c}\",\"w\")', 'x', 'exec')",
    "1 + __import__('os').system('touch {c}')",
    "2**__import__('os').system('touch {c}')",
    "3*__import__('os').system('touch {c}')",
    "x if __import__('os').system('touch {c}') else y",
    'sympify(\'__import__("os").system("touch {c}")\')',
    'parse_expr(\'open("{c}","w")\')',
    "Function('__import__')('os')",
    'S(\'__import__("os").system("touch {c}")\')',
    "Integer(1).__class__.__mro__[-1].__subclasses__()",
    r"\input{/etc/passwd}",
    r"\include{/etc/passwd}",
    r"\write18{touch {c}}",
    r"\immediate\write18{touch {c}}",
    r"\openin5=/etc/passwd \read5 to \x \x",
    r"\def\x{touch {c}}\x",
    r"\newcommand{\pwn}{__import__('os').system('touch {c}')} \pwn",
    r"\operatorname{__import__}(os)",
    r"\operatorname{eval}(\text{__import__('os').system('touch {c}')})",
    r"\operatorname{exec}(\operatorname{open}(c, w))",
    r"\operatorname{sympify}(\text{open('{c}','w')})",
    r"\text{__import__('os').system('touch {c}')}",
    r"\mathrm{exec}(open('{c}','w'))",
    r"\frac{__import__('os').system('touch {c}')}{1}",
    r"\sqrt{__import__('os').system('touch {c}')}",
    r"f(__import__('os').system('touch {c}'))",
    r"\begin{pmatrix} __import__('os') & 1 \\ 2 & 3 \end{pmatrix}",
    r"\{__import__('os').system('touch {c}'), 1\}",
    r"(__import__('os').system('touch {c}'), 2)",
    r"x = __import__('os').system('touch {c}')",
    r"\sum_{k=1}^{__import__('os').system('touch {c}')} k",
    r"\int_0^{__import__('os')} x dx",
    r"\lim_{x \to __import__('os')} x",
    r"\gcd(__import__('os').system('touch {c}'), 4)",
    "1e__import__('os')",
    "0x__import__",
    "lambda x: x",
    "__builtins__",
    "${__import__('os').system('touch {c}')}$",
    "`touch {c}`",
    "$(touch {c})",
    "'; import os; os.system('touch {c}'); '",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "\x00__import__('os').system('touch {c}')\x00",
]

WRAPPERS = [
    "{h}",
    r"The answer is $\boxed{{{h}}}$.",
    "Final Answer: The final answer is {h}. I hope it is correct.",
    "So the answer is ${h}$.",
    "Answer: {h}",
]


@pytest.fixture()
def canary(tmp_path: Path) -> Path:
    return tmp_path / "canary"


@pytest.fixture()
def ready_pool() -> None:
    """Timing tests measure answers, not the one-off start of the worker processes."""
    assert grade(r"\boxed{\sqrt{2}}", r"\sqrt{3}").correct is False


def _payloads(canary: Path) -> list[str]:
    return [h.replace("{c}", str(canary)) for h in HOSTILE]


def test_payloads_are_live(canary: Path) -> None:
    """Positive control: sympy's string parser (what graders must not call) does run them."""
    code = (
        "import sys\n"
        "from sympy.parsing.sympy_parser import parse_expr\n"
        "try:\n    parse_expr(sys.argv[1])\nexcept Exception:\n    pass\n"
    )
    payload = HOSTILE[0].replace("{c}", str(canary))
    subprocess.run([sys.executable, "-c", code, payload], check=False, timeout=60)
    assert canary.exists()


def test_hostile_answers_are_never_executed(canary: Path) -> None:
    payloads = _payloads(canary)
    assert len(payloads) >= 50
    pairs = []
    for h in payloads:
        for wrapper in WRAPPERS:
            response = wrapper.replace("{h}", h)
            pairs.append((response, "5"))  # hostile answer
            pairs.append(("The answer is $\\boxed{5}$.", response))  # hostile gold
            pairs.append((response, h))  # hostile on both sides
    outputs = []
    for kind in ("math", "integer", "choice"):
        for g in grade_many(pairs, kind=kind):
            outputs.append(g)
            assert isinstance(g.correct, bool) and g.reason
        for h in payloads:
            outputs.append(extract_answer(h, kind))
            same_answer(h, h + "+1", kind)
        cluster_answers(payloads + [None], kind)
    # Straight to the workers' parser and comparison, skipping all normalisation.
    raw = get_pool().run([("compare", (h, h2)) for h in payloads for h2 in (h, "5")], timeout=10)
    assert all(isinstance(ok, bool) for ok, _ in raw)
    assert not canary.exists()
    text = repr(outputs) + repr(raw)
    assert "root:" not in text and "/bin/" not in text  # /etc/passwd was never read


def test_workers_refuse_to_parse_text_as_python() -> None:
    [(ok, verdict)] = get_pool().run([("probe_eval", ())], timeout=30)
    assert ok and verdict == "refused"


PATHOLOGICAL = [
    "9^{9^{9^{9}}}",
    "9^9^9^9",
    "100000!",
    "(10^{100})!",
    "10^{10^{10}}",
    "10^{10^{10}} - 10^{10^{10}}",
    "2^{2^{2^{2^{2^{2}}}}}",
    "2^{999999999}",
    r"\binom{10^{9}}{10^{5}}",
    "(x+1)^{100000}",
    "9" * 5000,
    "x" * 1_000_000,
    "{" * 10_000 + "1" + "}" * 10_000,
    "{" * 10_000,
    "}" * 5000 + "{",
    r"\frac{1}{" * 3000,
    r"\sqrt{" * 3000 + "2" + "}" * 3000,
    r"\boxed{" * 5000,
    r"\left(" * 2000 + "x",
    "(" * 10_000 + ")" * 9_999,
]


@pytest.mark.parametrize("answer", PATHOLOGICAL, ids=[f"p{i}" for i in range(len(PATHOLOGICAL))])
def test_pathological_inputs_answer_within_timeout(answer: str, ready_pool: None) -> None:
    budget = DEFAULT_TIMEOUT + 1.0
    calls = [
        lambda: grade(f"The answer is $\\boxed{{{answer}}}$.", "5"),
        lambda: grade(answer, "5"),
        lambda: grade(r"\boxed{5}", answer),
        lambda: grade(answer, answer + "+1"),
        lambda: same_answer(answer, "10"),
    ]
    for call in calls:
        start = time.monotonic()
        result = call()
        elapsed = time.monotonic() - start
        assert elapsed <= budget, f"{elapsed:.1f}s for {answer[:40]!r}"
        if not isinstance(result, bool):
            assert result.correct is False and result.reason


def test_megabyte_response_with_answer_at_the_end(ready_pool: None) -> None:
    response = "Let me think. " * 75_000 + r"So the answer is $\boxed{42}$."
    assert len(response) > 1_000_000
    start = time.monotonic()
    g = grade(response, "42")
    assert g.correct and time.monotonic() - start < DEFAULT_TIMEOUT


def test_slow_comparison_times_out_as_not_equivalent(ready_pool: None) -> None:
    """A real answer whose comparison would take minutes: the soft alarm stops it."""
    start = time.monotonic()
    g = grade(r"\boxed{\sum_{k=1}^{10^{6}} \sin(k)}", "1", timeout=2.0)
    elapsed = time.monotonic() - start
    assert g.correct is False and "timed out" in g.reason
    assert elapsed <= 2.0 + 1.0
    assert grade(r"\boxed{\sqrt{4}}", "2").correct  # the pool still works


def test_hard_timeout_kills_and_replaces_the_worker() -> None:
    pool = WorkerPool(1)
    try:
        [(ok, first_pid)] = pool.run([("pid", ())], timeout=60)
        assert ok
        start = time.monotonic()
        # The "sleep" task ignores the soft alarm, like a loop inside C code.
        [(ok, payload)] = pool.run([("sleep", (60,))], timeout=1.0)
        elapsed = time.monotonic() - start
        assert (ok, payload) == (False, "timeout")
        assert elapsed < 1.0 + 1.0
        assert pool.stats["killed_timeout"] == 1
        [(ok, second_pid)] = pool.run([("pid", ())], timeout=60)
        assert ok and second_pid != first_pid
    finally:
        pool.close()


def test_crashed_worker_is_replaced_and_other_tasks_finish() -> None:
    pool = WorkerPool(2)
    try:
        tasks = [("compare", ("1", "1")), ("crash", ()), ("compare", ("2", "3"))]
        results = pool.run(tasks, timeout=60)
        assert results[1] == (False, "worker crashed")
        assert results[0] == (True, (True, "equivalent (symbolic)"))
        assert results[2] == (True, (False, "not equivalent"))
        assert pool.stats["died"] == 2  # retried once on a fresh worker, crashed again
        assert pool.run([("compare", (r"\sqrt{4}", "2"))], timeout=60)[0][0]
    finally:
        pool.close()


def test_worker_that_died_while_idle_does_not_cost_a_verdict() -> None:
    pool = WorkerPool(1)
    try:
        [(ok, pid)] = pool.run([("pid", ())], timeout=60)
        assert ok
        os.kill(pid, 9)  # dies between tasks (OOM killer, operator, ...)
        time.sleep(0.2)
        [(ok, verdict)] = pool.run([("compare", (r"\sqrt{8}", r"2\sqrt{2}"))], timeout=60)
        assert (ok, verdict) == (True, (True, "equivalent (symbolic)"))
    finally:
        pool.close()


def test_eight_threads_get_the_same_verdicts() -> None:
    # Fresh strings (never graded in this session) so the threads race on real work.
    tag = os.getpid() % 997 + 1000
    cases = []
    for i in range(12):
        n = tag + i
        cases += [
            (rf"\boxed{{\sqrt{{{4 * n * n}}}}}", f"{2 * n}", True),
            (rf"\boxed{{({n}+x)^2}}", f"x^2+{2 * n}x+{n * n}", True),
            (rf"\boxed{{({n}+x)^2}}", f"x^2+{2 * n}x+{n * n + 1}", False),
            (rf"\boxed{{\frac{{{n}}}{{{n + 1}}}}}", rf"\frac{{{2 * n}}}{{{2 * n + 2}}}", True),
            (rf"\boxed{{{n}\sqrt{{2}}}}", rf"\sqrt{{{2 * n * n + 1}}}", False),
        ]
    pairs = [(r, g) for r, g, _ in cases]
    expected = [e for _, _, e in cases]
    results: list[list[bool] | None] = [None] * 8
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            if slot % 2:
                results[slot] = [g.correct for g in grade_many(pairs)]
            else:
                results[slot] = [grade(r, g).correct for r, g in pairs]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    assert all(r == expected for r in results)


def test_script_without_main_guard_runs_once(tmp_path: Path) -> None:
    """Workers are fresh interpreters, so a caller's unguarded script is not re-run."""
    script = tmp_path / "unguarded.py"
    marker = tmp_path / "runs.txt"
    script.write_text(
        "from tts_eval.grading import grade\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        "print(grade(r'\\boxed{\\sqrt{8}}', r'2\\sqrt{2}').correct)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.stdout.strip() == "True", out.stderr
    assert marker.read_text() == "run\n"


def test_random_garbage_never_raises() -> None:
    """Fuzz: random fragments of LaTeX, prose and control characters through every entry
    point; the caller must always get a verdict, never an exception."""
    import random

    rng = random.Random(7)
    atoms = [
        "\\boxed{", "\\fbox{", "}", "{", "$", "$$", "\\(", "\\)", "\\[", "\\]", "\\frac", "\\sqrt",
        "\\text{", "\\left(", "\\right)", "(", ")", "[", "]", ",", ";", "=", "x", "1", "23", "0.5",
        ".", " ", "\n", "answer is ", "Final Answer: ", "\\!", "{,}", "\\%", "^", "_", "\\circ",
        "\\overline{3}", "pi", " or ", ":", "p.m.", "\\\\", "\\begin{pmatrix}", "\\end{pmatrix}",
        "&", "\\in", "|", "<", "\\leq", "-", "!", "\\approx", "units", "(C)", "\u2212", "\x00",
        "\\", "'", "</think>", "**", "e", "i", "_5", "9" * 30,
    ]  # fmt: skip
    texts = ["".join(rng.choice(atoms) for _ in range(rng.randint(0, 20))) for _ in range(3000)]
    for kind in ("math", "integer", "choice"):
        for text in texts:
            extract_answer(text, kind)
        grades = grade_many([(t, texts[-1 - i]) for i, t in enumerate(texts[:80])], kind=kind)
        assert all(isinstance(g.correct, bool) and g.reason for g in grades)
    ids = cluster_answers(texts[:64])
    assert len(ids) == 64 and all(isinstance(i, int) for i in ids)


@pytest.mark.parametrize(
    ("prefix", "chunk", "suffix"),
    [
        ("1 ", "a", "!"),  # unit words that can be split many ways
        ("is", " ", "x"),  # whitespace between optional parts of a pattern
        ("answer is", "\n", "x"),
        ("Option", " ", "."),
        ("", "\\(", "1"),  # thousands of unclosed math environments
        ("", "$", "x"),
        ("", "\\boxed{", "1"),
        ("x=", "a:", "1"),  # label-like prefixes
        ("\\text{", " ", " and }"),
        ("", "$1$, ", "and"),
        ("", "{", "}"),
        ("10", " percent", "x"),
    ],
)
def test_no_catastrophic_backtracking(prefix: str, chunk: str, suffix: str) -> None:
    """Regex-based extraction and normalisation stay linear on hostile 20,000-char input."""
    from tts_eval.grading.equivalence import prepare
    from tts_eval.grading.normalize import canonical_choice, canonical_integer, normalize_math

    text = prefix + chunk * (20_000 // len(chunk)) + suffix
    for call in (
        lambda: extract_answer(text, "math"),
        lambda: extract_answer(text, "choice"),
        lambda: normalize_math(text[:4_000]),
        lambda: canonical_choice(text[:4_000]),
        lambda: canonical_integer(text[:4_000]),
        lambda: prepare(text[:4_000]),
    ):
        start = time.monotonic()
        call()
        assert time.monotonic() - start < 0.5
