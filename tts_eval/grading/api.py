"""The grading entry points every task, strategy and CLI uses.

``grade`` / ``grade_many`` judge responses against golds, ``same_answer`` and
``cluster_answers`` group extracted answers for voting. All share one notion of
equivalence (equivalence.py) so a vote and its score can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from .choice import find_choice
from .equivalence import Prepared, decide_many, local_verdict, prepare
from .extract import extract_answer, extract_math
from .normalize import canonical_choice, canonical_integer, normalize_math
from .options import options_named
from .pool import get_pool
from .types import DEFAULT_TIMEOUT, Grade, check_kind

_EXTRACT_CACHE_MAX_CHARS = 4_000


def _as_text(value: object) -> str | None:
    """Golds may arrive as ints (AIME targets) or None; responses as None."""
    if value is None or isinstance(value, str):
        return value
    return str(value)


@lru_cache(maxsize=16_384)
def _extract_short(response: str, kind: str) -> str | None:
    return extract_answer(response, kind)


def _extract(response: str | None, kind: str) -> str | None:
    if response is None:
        return None
    if len(response) <= _EXTRACT_CACHE_MAX_CHARS:
        return _extract_short(response, kind)
    return extract_answer(response, kind)


@lru_cache(maxsize=16_384)
def gold_answer(gold: str) -> str:
    """The reference answer inside a gold string (``\\boxed{..}``, ``$..$``), or the gold."""
    found = extract_math(gold) if gold.strip() else None
    return found if found else gold.strip()


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --------------------------------------------------------------------------- grading


def grade(
    response: str,
    gold: str,
    kind: str = "math",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    options: Sequence[str] | None = None,
) -> Grade:
    """Grade one model response against a gold answer (see grade_many)."""
    return grade_many(
        [(response, gold)], kind=kind, workers=1, timeout=timeout,
        options=None if options is None else [options],
    )[0]


def grade_many(
    pairs: Iterable[tuple[str, str]],
    kind: str = "math",
    workers: int | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    options: Sequence[Sequence[str] | None] | None = None,
) -> list[Grade]:
    """Grade (response, gold) pairs, keeping their order.

    Answers are extracted and normalised here; identical and exactly-numeric pairs are
    decided in this process; each distinct remaining (gold, answer) pair is compared once,
    in parallel across ``workers`` processes (default: one per core), with a hard
    ``timeout`` in seconds per comparison. Never raises for bad answers.

    ``options`` (choice kind only): each row's option texts, A first. A response that
    commits to no letter but states an answer equivalent to exactly one option chooses it.
    """
    check_kind(kind)
    items = [(_as_text(r), _as_text(g)) for r, g in pairs]
    if options is not None and len(options) != len(items):
        raise ValueError(f"options: {len(options)} rows for {len(items)} pairs; give one "
                         "list of option texts (or None) per pair")
    if kind == "integer":
        return [_grade_integer(r, g, timeout) for r, g in items]
    if kind == "choice":
        return _grade_choices(items, options, timeout, workers)
    return _grade_math(items, workers, timeout)


def _grade_math(
    items: Sequence[tuple[str | None, str | None]], workers: int | None, timeout: float
) -> list[Grade]:
    """Answers decided here never wait for a worker; the first pair that needs symbolic
    work starts one, so its start-up overlaps with extracting the rest."""
    grades: list[Grade | None] = [None] * len(items)
    todo: list[int] = []
    pairs: list[tuple[Prepared, Prepared]] = []
    local: list[tuple[bool, str] | None] = []
    extracted: list[str | None] = []
    started = False
    for i, (response, gold) in enumerate(items):
        try:
            answer = _extract(response, "math")
            if gold is None or not gold.strip():
                grades[i] = Grade(False, answer, "gold answer is empty")
            elif answer is None:
                grades[i] = Grade(False, None, "no answer found in response")
            else:
                pair = (prepare(gold_answer(gold)), prepare(answer))
                verdict = local_verdict(*pair, timeout)
                if verdict is None and not started:
                    get_pool(workers).prestart(1)
                    started = True
                todo.append(i)
                pairs.append(pair)
                local.append(verdict)
        except Exception as exc:  # noqa: BLE001 - a grader bug must not lose the whole run
            answer = None
            grades[i] = Grade(False, None, f"internal grading error ({type(exc).__name__})")
        extracted.append(answer)
    decided = decide_many(pairs, timeout, workers, local)
    for i, (correct, reason) in zip(todo, decided, strict=True):
        grades[i] = Grade(correct, extracted[i], reason)
    return [g for g in grades if g is not None]


def _grade_integer(response: str | None, gold: str | None, timeout: float) -> Grade:
    if gold is None or not gold.strip():
        return Grade(False, _extract(response, "integer"), "gold answer is empty")
    gold_int = canonical_integer(gold_answer(gold))
    if gold_int is None:
        # Not an AIME-style gold: grade it as a free-form answer rather than fail it.
        found = _grade_math([(response, gold)], 1, timeout)[0]
        return Grade(
            found.correct,
            found.extracted,
            f"{found.reason} (gold is not an integer 0-999: graded as math)",
        )
    answer = _extract(response, "integer")
    if answer is None:
        raw = _extract(response, "math")
        if raw is None:
            return Grade(False, None, "no answer found in response")
        return Grade(False, None, f"answer {_short(raw)!r} is not an integer 0-999")
    if answer == gold_int:
        return Grade(True, answer, "same integer")
    return Grade(False, answer, "different integer")


def read_choices(
    responses: Sequence[str | None],
    options: Sequence[Sequence[str] | None] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> list[tuple[str | None, str, str]]:
    """The letter each response chooses (None: none), the rule that found it, and the words
    it came from. A response that commits to no letter (and does not hedge between letters)
    may name one of its row's ``options`` by text or value (options.py)."""
    findings = [find_choice(response or "") for response in responses]
    by_text: dict[int, str] = {}
    for i, finding in enumerate(findings):
        row_options = options[i] if options is not None else None
        if finding.letter is None and row_options and not finding.rule.startswith("hedges"):
            stated = _extract(responses[i], "math")
            if stated:
                by_text[i] = stated
    # by_text holds rows only when options were given
    named = dict(zip(by_text, options_named(
        list(by_text.values()), [options[i] or [] for i in by_text], timeout, workers,
    ), strict=True))
    out = []
    for i, finding in enumerate(findings):
        if i in named:
            letter, how = named[i]
            out.append((letter, how, by_text[i]))
        else:
            out.append((finding.letter, finding.rule, finding.sentence))
    return out


def _grade_choices(
    items: Sequence[tuple[str | None, str | None]],
    options: Sequence[Sequence[str] | None] | None,
    timeout: float,
    workers: int | None,
) -> list[Grade]:
    chosen = read_choices([r for r, _ in items], options, timeout=timeout, workers=workers)
    grades = []
    for (_, gold), (letter, how, evidence) in zip(items, chosen, strict=True):
        gold_letter = canonical_choice(gold) if gold else None
        if gold_letter is None:
            shown = _short(gold or "")
            grades.append(Grade(False, letter, f"gold {shown!r} is not a choice letter A-D",
                                evidence))
        elif letter is None:
            grades.append(Grade(False, None, f"no choice: {how}", evidence))
        else:
            verdict = "same choice" if letter == gold_letter else "different choice"
            grades.append(Grade(letter == gold_letter, letter, f"{verdict} ({how})", evidence))
    return grades


# --------------------------------------------------------------------------- voting


def same_as_gold(
    answers: Sequence[str | None], gold: str, kind: str = "math", *,
    timeout: float = DEFAULT_TIMEOUT, workers: int | None = None,
) -> list[bool]:
    """``same_answer(a, gold)`` for many answers of one problem, in one worker round trip
    (each distinct answer once); None is never the gold's answer."""
    check_kind(kind)
    distinct = list(dict.fromkeys(a for a in answers if _as_text(a) is not None))
    if kind != "math":
        verdict = {a: same_answer(a, gold, kind) for a in distinct}
    else:
        pg = prepare(_as_text(gold)) if _as_text(gold) is not None else None
        prepared = {a: prepare(_as_text(a)) for a in distinct}
        asked = [a for a in distinct if pg is not None and pg.norm and prepared[a].norm]
        results = decide_many([(pg, prepared[a]) for a in asked], timeout, workers)
        verdict = dict.fromkeys(distinct, False)
        verdict.update({a: ok for a, (ok, _) in zip(asked, results, strict=True)})
    return [a in verdict and verdict[a] for a in answers]


def same_answer(a: str, b: str, kind: str = "math", *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether two already-extracted answers are the same answer.

    Where the rule is asymmetric, ``b`` plays the gold's part, so ``same_answer(answer,
    gold)`` is the verdict ``grade`` gives a response stating ``answer`` (e.g.
    ``29 \\cdot 7 = 203`` states 203; a tuple is not the set of its elements).
    """
    check_kind(kind)
    a_text, b_text = _as_text(a), _as_text(b)
    if a_text is None or b_text is None:
        return False
    if kind == "integer":
        ia, ib = canonical_integer(a_text), canonical_integer(b_text)
        if ia is not None or ib is not None:
            return ia == ib
        return normalize_math(a_text) == normalize_math(b_text)
    if kind == "choice":
        ca, cb = canonical_choice(a_text), canonical_choice(b_text)
        return ca is not None and ca == cb
    pa, pb = prepare(a_text), prepare(b_text)
    if not pa.norm or not pb.norm:
        return False
    return decide_many([(pb, pa)], timeout, 1)[0][0]


def warm_up(workers: int | None = None) -> None:
    """Start the grading workers now, without waiting, and let them warm the LaTeX parser:
    a caller that will grade later (tts-vllm, while its engine loads) then pays neither."""
    get_pool(workers).prestart(warm=True)


def cluster_answers(
    answers: Sequence[str | None],
    kind: str = "math",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> list[int]:
    """A cluster id per answer (None -> -1), numbered in order of first appearance.

    Answers are deduplicated by their canonical form first (64 samples usually hold a
    handful of distinct answers); only distinct forms are compared, all in one parallel
    batch, and each joins the cluster of the first earlier form it matches (the earlier
    form plays the gold's part, as ``b`` does in same_answer).
    """
    return cluster_many([answers], kind, timeout=timeout, workers=workers)[0]


def cluster_many(
    answer_lists: Sequence[Sequence[str | None]],
    kind: str = "math",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> list[list[int]]:
    """``cluster_answers`` for many problems at once: the symbolic comparisons of every
    problem go to the worker pool as one batch, so a run's voting costs one round trip,
    not one per problem."""
    check_kind(kind)
    grouped = [_groups(answers, kind) for answers in answer_lists]
    roots = _merge_groups([reps for reps, _ in grouped], kind, timeout, workers)
    return [_cluster_ids(group_of, root) for (_, group_of), root in zip(grouped, roots,
                                                                         strict=True)]


def _groups(answers: Sequence[str | None], kind: str) -> tuple[list[str], list[int]]:
    """Distinct canonical forms (their first text) and each answer's form (-1: none)."""
    group_of_key: dict[object, int] = {}
    group_rep: list[str] = []
    group_of: list[int] = []
    for text in (_as_text(a) for a in answers):
        if text is None or not text.strip():
            group_of.append(-1)
            continue
        key = _cluster_key(text, kind)
        if key not in group_of_key:
            group_of_key[key] = len(group_rep)
            group_rep.append(text)
        group_of.append(group_of_key[key])
    return group_rep, group_of


def _cluster_ids(group_of: list[int], root: list[int]) -> list[int]:
    ids: dict[int, int] = {}
    return [-1 if group < 0 else ids.setdefault(root[group], len(ids)) for group in group_of]


def _cluster_key(text: str, kind: str) -> object:
    if kind == "integer":
        value = canonical_integer(text)
        return ("int", value) if value is not None else ("raw", normalize_math(text))
    if kind == "choice":
        letter = canonical_choice(text)
        return ("letter", letter) if letter is not None else ("raw", text.strip())
    p = prepare(text)
    if p.value is not None:
        return ("value", p.value)
    return ("key", p.key)


def _merge_groups(
    rep_lists: list[list[str]], kind: str, timeout: float, workers: int | None
) -> list[list[int]]:
    """Per problem, for each group the index of the earliest group it is the same as."""
    roots = [list(range(len(reps))) for reps in rep_lists]
    if kind != "math":
        return roots
    pairs: list[tuple[int, int, int]] = []  # (problem, earlier group, later group)
    prepared_lists = []
    for problem, reps in enumerate(rep_lists):
        prepared = [prepare(r) for r in reps]
        prepared_lists.append(prepared)
        for j in range(1, len(reps)):
            for i in range(j):
                pairs.append((problem, i, j))  # exact values are decided in-process
    if not pairs:
        return roots
    verdicts = decide_many(
        [(prepared_lists[p][i], prepared_lists[p][j]) for p, i, j in pairs], timeout, workers
    )
    same = {pair for pair, (ok, _) in zip(pairs, verdicts, strict=True) if ok}
    for problem, root in enumerate(roots):
        for j in range(1, len(root)):
            for i in range(j):
                if (problem, i, j) in same:
                    root[j] = root[i]
                    break
    return roots
