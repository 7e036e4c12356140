"""adaptive: compute-optimal test-time scaling (Snell et al. 2024), with its difficulty
estimate paid for.

Per problem: a pilot of a few samples (charged to the problem's budget) predicts how hard
the problem is, by how much the samples agree (or by their mean verifier score); the
calibration file (``tts-eval calibrate``) says which strategy won on problems that hard at
this budget; that strategy then runs with what is left of the same budget. Snell et al.
estimated difficulty from 2048 uncharged samples with gold answers; here the estimate uses
no gold and its cost is in every record.

At a budget where the pilot did not pay for itself on the calibration problems (the best
single setting was as accurate for less), that setting runs alone, without a pilot. The
pilot and the chosen strategy each pay the prompt's prefill (conservative: a prefix cache
would share it). A problem whose budget has no room for one more sample after the pilot
answers with the pilot's majority, as does a bin with nothing calibrated at this budget.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts_eval.accounting import Budget, BudgetError, Meter
from tts_eval.records import TTSRecord
from tts_eval.strategies.base import (
    Context,
    Problem,
    ProblemDraws,
    Strategy,
    sample_answers,
    worst_reading,
)
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

log = logging.getLogger(__name__)
PILOT_ONLY = "pilot majority"  # what a problem runs when nothing more fits


class Adaptive(Strategy):
    name = "adaptive"
    extra_args = ("calibration",)

    def __init__(self, n: int | None = None, budget: Budget | None = None,
                 calibration: str | None = None) -> None:
        if n is not None:
            raise ValueError(f"strategy 'adaptive' takes its samples from its calibration "
                             f"(pilot, chosen settings); drop n={n}")
        super().__init__(None, budget)
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
        level = cal.level(limit)
        if level is None:
            raise BudgetError(f"budget_{cal.unit}={limit:g} is below the smallest calibrated "
                              f"budget {min(cal.budgets):g} of calibration={calibration}; "
                              "raise it, or calibrate with smaller --budgets")
        self.limit = limit
        self.pilot = int(cal.pilot["n"])
        # where the pilot did not beat the best single setting, that setting runs alone
        self.single = None if cal.use_pilot[level] else cal.single[level].setting
        if not cal.use_pilot[level] and self.single is None:
            raise BudgetError(f"no calibrated setting fits budget_{cal.unit}={limit:g}; "
                              "raise it")
        chosen = ({self.single} if self.single is not None else
                  {row[level].setting for row in cal.table} - {None})
        self.strategies = {s: self._build(cal.settings[s]) for s in sorted(chosen)}
        self.uses_verifier = (  # type: ignore[misc]
            (self.single is None and cal.difficulty == "verifier")
            or any(strategy.uses_verifier for strategy in self.strategies.values()))

    def _build(self, setting: Setting) -> Strategy:
        from tts_eval.strategies import get_strategy  # the registry imports this module

        return get_strategy(setting.strategy, budget=self.budget, **setting.params)

    @property
    def params(self) -> dict[str, Any]:
        return {"pilot": 0 if self.single is not None else self.pilot,
                "calibration": Path(self.path).name,
                "difficulty": self.calibration.difficulty}

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        if self.single is not None:
            return self._run_single(self.single, problems, ctx)
        cal = self.calibration
        pilots = self.draw(problems, ctx, n=self.pilot, read=cal.difficulty == "verifier")
        answers = [sample_answers(p, d.completions, ctx.engine)
                   for p, d in zip(problems, pilots, strict=True)]
        clusters = cluster_by_kind(problems, [a.answers for a in answers])
        values = [self._difficulty(c, d) for c, d in zip(clusters, pilots, strict=True)]
        bins = [cal.bin_of(v) for v in values]
        pilot_costs = list(ctx.meter.spent)
        chosen = [cal.choose(b, self.limit).setting for b in bins]
        chosen = [s if s is not None and self._room_for_a_step(
                      problems[i], pilots[i].prompt_tokens, i, s, ctx) else None
                  for i, s in enumerate(chosen)]
        records: dict[int, TTSRecord] = {}
        for setting in sorted({s for s in chosen if s is not None}):
            members = [i for i, s in enumerate(chosen) if s == setting]
            try:
                records.update(zip(members, self._run_setting(setting, members, problems, ctx),
                                   strict=True))
            except BudgetError as error:  # raised before it generated: the pilot answers
                log.warning("tts-eval: adaptive: %s on %d problems left no room after the "
                            "pilot (%s); they answer with the pilot's majority",
                            cal.settings[setting].label, len(members), error)
                for i in members:
                    chosen[i] = None
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
            out.append(self._as_adaptive(record, problem, label))
        return out

    def _run_single(self, setting: int, problems: Sequence[Problem],
                    ctx: Context) -> list[TTSRecord]:
        """The best single setting at this budget, for every problem, without a pilot."""
        label = self.calibration.settings[setting].label
        records = self._run_setting(setting, list(range(len(problems))), problems, ctx)
        for record in records:
            record.extra["adaptive"] = {"difficulty": None, "value": None, "bin": None,
                                        "setting": label, "pilot": None}
        return [self._as_adaptive(r, p, label) for r, p in zip(records, problems, strict=True)]

    def _as_adaptive(self, record: TTSRecord, problem: Problem, label: str) -> TTSRecord:
        record.params = {**self.record_params(problem), "setting": label,
                         "setting_params": record.params}
        record.strategy = self.name
        return record

    def _difficulty(self, clusters: list[int], pilot: ProblemDraws) -> float:
        if self.calibration.difficulty == "agreement":
            return agreement(clusters)
        how = self.calibration.pilot.get("aggregate") or "last"
        return mean_score([None if r is None else aggregate(r.scores, how)
                           for r in pilot.readings])

    def _room_for_a_step(self, problem: Problem, tokens: int, index: int, setting: int,
                         ctx: Context) -> bool:
        """Can the problem (its prompt ``tokens`` long, as the pilot counted) still pay for
        its prompt and one full-length sample (and its reading, when the setting reads a
        verifier)?"""
        pricer, spec = ctx.meter.pricer, problem.sampling
        worst = pricer.sample(tokens, spec.max_tokens)
        if self.strategies[setting].uses_verifier:
            worst = worst + worst_reading(ctx, problem.prompt, "", spec.max_tokens)
        return ctx.meter.afford(index, worst, fixed=pricer.prefill(tokens)) >= 1

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
