"""What sequential test-time scaling buys on the toy thinker, measured through the strategies.

One engine, the arith_tts evaluation problems: budget forcing over a sweep of thinking budgets
(with s1's control / scaling / performance), the effect of ignoring ends of thinking
(``num_ignore``), and sequential revisions against parallel majority voting. The thinker's
TRAINING.json and ``benchmarks/sequential.py`` both report these numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tts_eval.engines import SamplingSpec
from tts_eval.metrics import score_record
from tts_eval.metrics.budget_control import BudgetPoint, control, performance, scaling
from tts_eval.metrics.scoring import sample_correctness
from tts_eval.strategies import Problem, get_strategy
from tts_eval.strategies.thinking import think_format, with_token_ids

from .problems import ARITH_TTS_PROBLEMS_PER_LEVEL, EVAL_SEED, LEVELS, format_prompt, make_problems

CHAINS = 4  # chains (or samples) per problem at each setting
ANSWER_TOKENS = 16  # "\boxed{123}" after the cue needs ~8


def _solve(name: str, params: dict, problems, rows, engine) -> dict[str, Any]:
    """Mean sample correctness and chosen accuracy per level, tokens, and the records."""
    records = get_strategy(name, **params).solve(problems, engine)
    by_level: dict[int, list[float]] = {}
    chosen: list[float] = []
    for row, record in zip(rows, records, strict=True):
        scores = score_record(record, row["answer"])
        by_level.setdefault(row["level"], []).append(scores["pass@1"])
        chosen.append(scores["acc"])
    thinking = [max((r.get("thinking", 0) for r in s.rounds or []), default=0)
                for r in records for s in r.samples]
    return {"by_level": {lv: round(sum(v) / len(v), 4) for lv, v in sorted(by_level.items())},
            "all": round(sum(sum(v) for v in by_level.values()) / len(rows), 4),
            "acc": round(sum(chosen) / len(chosen), 4),
            "thinking_tokens": round(sum(thinking) / len(thinking), 1),
            "tokens_per_problem": round(sum(r.cost.total_tokens for r in records)
                                        / len(records), 1),
            "_records": records, "_thinking": thinking}


def _public(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if not k.startswith("_")}


def thinker_metrics(engine, per_level: int = 20, budgets: Sequence[int] = (4, 8, 16, 32, 64),
                    generous: int = 128, temperature: float = 0.8,
                    max_tokens: int = 160) -> dict[str, Any]:
    """Budget sweep, num_ignore and revisions on the first ``per_level`` eval problems of each
    level; accuracies are mean correctness of the chains (``all``) and of the chosen answer
    (``acc``)."""
    think = with_token_ids(think_format("auto", engine.tokenizer.chat_template),
                           lambda text: engine.token_ids(text, add_special_tokens=False))
    rows = [p for level in LEVELS
            for p in make_problems(ARITH_TTS_PROBLEMS_PER_LEVEL, level, EVAL_SEED)[:per_level]]
    problems = [Problem(format_prompt(p), SamplingSpec(temperature=temperature,
                                                       max_tokens=max_tokens, seed=i),
                        think=think) for i, p in enumerate(rows)]
    forcing = {"n": CHAINS, "max_answer_tokens": ANSWER_TOKENS}
    sweep, points = {}, []
    for budget in budgets:
        result = _solve("budget_forcing", {**forcing, "max_thinking_tokens": budget},
                        problems, rows, engine)
        points.append(BudgetPoint(budget, result["_thinking"], result["all"]))
        sweep[budget] = _public(result)
    ignore = {k: _public(_solve("budget_forcing", {**forcing, "max_thinking_tokens": generous,
                                                    "num_ignore": k}, problems, rows, engine))
              for k in (0, 1, 2)}
    revisions = _solve("revisions", {"n": 1, "revisions": CHAINS}, problems, rows, engine)
    parallel = _solve("majority", {"n": CHAINS}, problems, rows, engine)
    fixed = wrong_first = 0
    for row, record in zip(rows, revisions["_records"], strict=True):
        ok = sample_correctness([s.answer for s in record.samples], row["answer"], "math")
        if not ok[0]:
            wrong_first += 1
            fixed += ok[-1]
    return {
        "problems_per_level": per_level, "chains": CHAINS, "temperature": temperature,
        "budget_forcing": {"max_answer_tokens": ANSWER_TOKENS, "sweep": sweep,
                           "s1_control": round(control(points), 4),
                           "s1_scaling_per_token": round(scaling(points) or 0.0, 6),
                           "s1_performance": performance(points)},
        f"num_ignore_at_B{generous}": ignore,
        "revisions": {f"revisions_1x{CHAINS}": _public(revisions),
                      f"majority_{CHAINS}": _public(parallel),
                      "wrong_first_attempts": wrong_first,
                      "fixed_by_last_revision": fixed},
    }
