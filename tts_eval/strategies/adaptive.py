"""adaptive: compute-optimal test-time scaling (Snell et al. 2024), with its difficulty
estimate paid for.

Per problem: a pilot of a few samples (charged to the problem's budget) predicts how hard
the problem is, by how much the samples agree (or by their mean verifier score); the
calibration file (``tts-eval calibrate``) says which strategy won on problems that hard at
this budget; that strategy then runs with what is left of the same budget. Snell et al.
estimated difficulty from 2048 uncharged samples with gold answers; here the estimate uses
no gold and its cost is in every record.

The pilot and the chosen strategy each pay the prompt's prefill (conservative: a prefix
cache would share it). A problem whose budget has no room for one more sample after the
pilot answers with the pilot's majority, as does a bin with nothing calibrated at this
budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts_eval.accounting import Budget, BudgetError, Meter
from tts_eval.records import TTSRecord
from tts_eval.strategies.base import Context, Problem, ProblemDraws, Strategy, sample_answers
from tts_eval.strategies.calibration import (
    PREDICTORS,
    Calibration,
    Setting,
    agreement,
    mean_score,
)
from tts_eval.strategies.sampling import cluster_by_kind
from tts_eval.strategies.voting import majority_choice
from tts_eval.verifiers import aggregate

PILOT_ONLY = "pilot majority"  # what a problem runs when nothing more fits


class Adaptive(Strategy):
    name = "adaptive"
    extra_args = ("calibration",)

    def __init__(self, n: int | None = None, budget: Budget | None = None,
                 calibration: str | None = None) -> None:
        super().__init__(n, budget)
        if calibration is None:
            raise ValueError("strategy 'adaptive' needs calibration=FILE: write one with "
                             "tts-eval calibrate RUN... --out FILE")
        self.path = calibration
        self.calibration = cal = Calibration.load(calibration)
        if cal.difficulty not in PREDICTORS:
            raise ValueError(f"calibration={calibration} bins by {cal.difficulty} difficulty, "
                             "which needs gold answers at test time; calibrate with "
                             "--difficulty agreement (or verifier) for strategy=adaptive")
        limit = self.budget.flops if cal.unit == "flops" else self.budget.tokens
        if limit is None:
            raise BudgetError(f"strategy=adaptive chooses per budget, and "
                              f"calibration={calibration} counts {cal.unit}: give "
                              f"budget_{cal.unit}=")
        if limit < min(cal.budgets):
            raise BudgetError(f"budget_{cal.unit}={limit:g} is below the smallest calibrated "
                              f"budget {min(cal.budgets):g} of calibration={calibration}; "
                              "raise it, or calibrate with smaller --budgets")
        self.limit = limit
        self.pilot = int(cal.pilot["n"])
        chosen = {c.setting for row in cal.table for c in row if c.setting is not None}
        self.uses_verifier = cal.difficulty == "verifier" or any(  # type: ignore[misc]
            cal.settings[s].verifier for s in chosen)
        self.strategies = {s: self._build(cal.settings[s]) for s in sorted(chosen)}

    def _build(self, setting: Setting) -> Strategy:
        from tts_eval.strategies import get_strategy  # the registry imports this module

        return get_strategy(setting.strategy, budget=self.budget, **setting.params)

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self.pilot, "calibration": Path(self.path).name,
                "difficulty": self.calibration.difficulty}

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        cal = self.calibration
        pilots = self.draw(problems, ctx, n=self.pilot, read=cal.difficulty == "verifier")
        answers = [sample_answers(p, d.completions, ctx.engine)
                   for p, d in zip(problems, pilots, strict=True)]
        clusters = cluster_by_kind(problems, [a.answers for a in answers])
        values = [self._difficulty(c, d) for c, d in zip(clusters, pilots, strict=True)]
        bins = [cal.bin_of(v) for v in values]
        pilot_costs = list(ctx.meter.spent)
        chosen: list[int | None] = [
            cal.choose(b, self.limit).setting if self._room_for_a_sample(p, i, ctx) else None
            for i, (p, b) in enumerate(zip(problems, bins, strict=True))]
        records: dict[int, TTSRecord] = {}
        for setting in sorted({s for s in chosen if s is not None}):
            members = [i for i, s in enumerate(chosen) if s == setting]
            records.update(zip(members, self._run_setting(setting, members, problems, ctx),
                               strict=True))
        for i in (i for i, s in enumerate(chosen) if s is None):
            records[i] = self.make_record(problems[i], pilots[i], ctx, i,
                                          _pilot_choice(clusters[i]), clusters[i], answers[i])
        out = []
        for i, problem in enumerate(problems):
            record, setting = records[i], chosen[i]
            label = PILOT_ONLY if setting is None else cal.settings[setting].label
            record.extra["adaptive"] = {
                "difficulty": cal.difficulty, "value": values[i], "bin": bins[i],
                "setting": label, "pilot": {
                    "samples": len(pilots[i].completions), "answers": answers[i].answers,
                    "cost": pilot_costs[i].to_dict()}}
            record.params = {**self.record_params(problem), "setting": label,
                             "setting_params": record.params}
            record.strategy = self.name
            out.append(record)
        return out

    def _difficulty(self, clusters: list[int], pilot: ProblemDraws) -> float:
        if self.calibration.difficulty == "agreement":
            return agreement(clusters)
        how = self.calibration.pilot.get("aggregate") or "last"
        return mean_score([None if r is None else aggregate(r.scores, how)
                           for r in pilot.readings])

    def _room_for_a_sample(self, problem: Problem, index: int, ctx: Context) -> bool:
        """Can the problem still pay for its prompt and one full-length sample?"""
        pricer = ctx.meter.pricer
        tokens = ctx.engine.count_tokens(problem.prompt, problem.sampling.add_special_tokens)
        return ctx.meter.afford(index, pricer.sample(tokens, problem.sampling.max_tokens),
                                fixed=pricer.prefill(tokens)) >= 1

    def _run_setting(self, setting: int, members: list[int], problems: Sequence[Problem],
                     ctx: Context) -> list[TTSRecord]:
        """The chosen strategy on its problems, each starting from what its pilot spent,
        under the same per-problem budget."""
        meter = Meter(ctx.meter.pricer, self.budget, len(members))
        meter.spent = [ctx.meter.spent[i] for i in members]
        records = self.strategies[setting].run([problems[i] for i in members],
                                               Context(ctx.engine, meter, ctx.verifier))
        for j, i in enumerate(members):
            ctx.meter.spent[i] = meter.spent[j]
        return records


def _pilot_choice(clusters: list[int]) -> int:
    chosen = majority_choice(clusters)
    return 0 if chosen is None else chosen


__all__ = ["Adaptive"]
