"""A calibration: which strategy to run for a problem of each difficulty, at each budget.

Snell et al. (2024) show that the best test-time strategy depends on how hard a problem is
for the model, and that choosing per difficulty ("compute-optimal") beats any single
strategy at equal compute. ``tts-eval calibrate`` writes this file from runs over a
calibration split; ``strategy=adaptive`` reads it. It lives here, below the report layer,
because the strategy that applies it must read it without the code that builds it.

Difficulty is a number per problem where higher means easier, cut into bins by ``edges``
(descending quantiles of the calibration problems; bin 1 is the easiest):

- ``oracle``: the share of correct samples over every sampled run (needs gold answers:
  a benchmark's upper bound, never usable at test time);
- ``agreement``: the share of a small pilot's samples that agree with its most common
  answer (no gold needed; the pilot is charged to the problem's budget);
- ``verifier``: the mean verifier score of the pilot's samples.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CALIBRATION_VERSION = 1
DIFFICULTIES = ("oracle", "agreement", "verifier")
PREDICTORS = ("agreement", "verifier")  # what a strategy can compute at test time
UNITS = ("flops", "tokens")


class CalibrationError(ValueError):
    """A calibration file that cannot be used; the message names the problem and the fix."""


@dataclass(frozen=True)
class Setting:
    """One runnable configuration: a strategy, its parameters, and its verifier if any."""

    strategy: str
    params: dict[str, Any]
    verifier: str | None = None
    run: str = ""  # the run it was measured from

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.strategy}({shown})" if shown else self.strategy


@dataclass(frozen=True)
class Choice:
    """What a bin runs at one budget: the setting (an index into ``settings``, None when
    nothing fits), and what it reached and spent on the calibration problems."""

    budget: float
    setting: int | None
    accuracy: float | None = None
    cost: float | None = None  # mean per problem, the pilot included


@dataclass
class Calibration:
    unit: str  # what budgets count: "flops" or "tokens"
    difficulty: str  # one of DIFFICULTIES
    edges: list[float]  # descending: bin b holds edges[b-2] > value >= edges[b-1]
    settings: list[Setting]
    table: list[list[Choice]]  # per bin (1 first), per budget (ascending)
    single: list[Choice]  # per budget: the best single setting, run without a pilot
    use_pilot: list[bool]  # per budget: does the pilot beat ``single`` (else run it)?
    pilot: dict[str, Any] = field(default_factory=dict)  # {"n": samples, "cost": mean}
    split: dict[str, Any] = field(default_factory=dict)  # seed, share, problems per side
    model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # bins' sizes, cross-validation

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise CalibrationError(f"calibration unit {self.unit!r}; valid: {', '.join(UNITS)}")
        if self.difficulty not in DIFFICULTIES:
            raise CalibrationError(f"calibration difficulty {self.difficulty!r}; valid: "
                                   f"{', '.join(DIFFICULTIES)}")
        if any(a < b for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise CalibrationError("calibration edges must descend (bin 1 is the easiest)")
        if len(self.table) != len(self.edges) + 1:
            raise CalibrationError(f"calibration has {len(self.table)} bins for "
                                   f"{len(self.edges)} edges; expected {len(self.edges) + 1}")
        if not self.table or any(len(row) != len(self.single) for row in self.table) or (
                len(self.use_pilot) != len(self.single)):
            raise CalibrationError("calibration table, single and use_pilot must have one "
                                   "entry per budget")

    @property
    def budgets(self) -> list[float]:
        return [choice.budget for choice in self.single]

    def level(self, budget: float) -> int | None:
        """The index of the largest calibrated budget within ``budget`` (None: below all)."""
        fitting = [j for j, b in enumerate(self.budgets) if b <= budget * (1 + 1e-9)]
        return fitting[-1] if fitting else None

    def bin_of(self, value: float) -> int:
        return bin_of(value, self.edges)

    def choose(self, bin_number: int, budget: float) -> Choice:
        """The choice for ``bin_number`` at the largest calibrated budget within ``budget``
        (a budget below every calibrated one: no setting)."""
        j = self.level(budget)
        return Choice(budget, None) if j is None else self.table[bin_number - 1][j]

    def to_dict(self) -> dict[str, Any]:
        return {"tts_calibration": CALIBRATION_VERSION, **asdict(self)}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        if data.get("tts_calibration") != CALIBRATION_VERSION:
            raise CalibrationError("not a tts-eval calibration file (version "
                                   f"{CALIBRATION_VERSION}); write one with tts-eval calibrate")
        try:
            return cls(
                unit=data["unit"], difficulty=data["difficulty"],
                edges=[float(e) for e in data["edges"]],
                settings=[Setting(**s) for s in data["settings"]],
                table=[[Choice(**c) for c in row] for row in data["table"]],
                single=[Choice(**c) for c in data["single"]],
                use_pilot=[bool(u) for u in data["use_pilot"]],
                pilot=data.get("pilot") or {}, split=data.get("split") or {},
                model=data.get("model"), extra=data.get("extra") or {},
            )
        except (KeyError, TypeError) as error:
            raise CalibrationError(f"calibration file field missing or malformed: {error}; "
                                   "write it again with tts-eval calibrate") from None

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        file = Path(path)
        if not file.is_file():
            raise CalibrationError(f"calibration={path}: no such file; write one with "
                                   "tts-eval calibrate RUN... --out FILE")
        try:
            data = json.loads(file.read_text())
        except json.JSONDecodeError as error:
            raise CalibrationError(f"calibration={path}: not JSON ({error})") from None
        return cls.from_dict(data)


def bin_of(value: float, edges: list[float]) -> int:
    """The bin (1: easiest) of a difficulty value (higher: easier) under descending
    ``edges``; a value on an edge goes to the easier bin."""
    return 1 + sum(value < edge for edge in edges)


def agreement(clusters: list[int]) -> float:
    """The share of samples in the most common answer cluster (a sample without an answer,
    cluster -1, agrees with nothing); 0 when there are no samples."""
    if not clusters:
        return 0.0
    counts: dict[int, int] = {}
    for cluster in clusters:
        if cluster >= 0:
            counts[cluster] = counts.get(cluster, 0) + 1
    return max(counts.values(), default=0) / len(clusters)


def mean_score(scores: list[float | None]) -> float:
    """The pilot's mean verifier score (an unread sample counts as 0)."""
    return sum(s or 0.0 for s in scores) / len(scores) if scores else 0.0


__all__ = ["CALIBRATION_VERSION", "DIFFICULTIES", "PREDICTORS", "UNITS", "Calibration",
           "CalibrationError", "Choice", "Setting", "agreement", "bin_of", "mean_score"]
