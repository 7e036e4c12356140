"""What a problem spent, what it may spend, and the price of the next sample.

Comparing strategies and models *at equal compute* needs one accounting for all of
them. Tokens come from the engine; FLOPs from ``tts_eval.accounting`` (Kaplan forward
cost from the model's own config). Two FLOPs figures are kept:

- ``generator_flops`` (*actual*): each problem's prompt is prefilled once and its
  samples share it (``SamplingParams(n=N)`` and the prefix cache do exactly this);
  every sampled token pays its decode step. Leaderboards use this one: it is what a
  serving stack with prefix caching spends, and it does not depend on cache state.
- ``generator_flops_naive``: every sample prefills its prompt again, as N independent
  requests without a prefix cache would.

A budget (``budget_tokens`` / ``budget_flops`` per problem) is never exceeded: a
strategy may start a step only if that step's *worst case* (every sample running to
``max_tokens``) still fits, so it can stop early but never overshoot.

A model without a config (a served model whose files are not here, and no
``model_config=``) has unknown FLOPs: they are NaN, which every sum and mean carries on,
so no total is ever a wrong number; JSON writes them as null (``known_or_none``), and a
FLOPs budget is refused for such a model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, astuple, dataclass, fields
from typing import Any

from tts_eval.accounting.flops import sequence_flops
from tts_eval.accounting.model_spec import ConfigLike, ModelSpec, load_model_spec

UNKNOWN = math.nan  # FLOPs of a model whose config is not known


class BudgetError(ValueError):
    """A budget that cannot buy even one answer; raised before anything is generated."""


def known_or_none(value: float) -> float | None:
    """``value``, or None where it is unknown (NaN): what JSON can hold."""
    return None if isinstance(value, float) and math.isnan(value) else value


@dataclass
class Cost:
    """What one problem spent. ``+`` adds two costs."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    verifier_tokens: int = 0
    generator_flops: float = 0.0
    generator_flops_naive: float = 0.0
    verifier_flops: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens + self.verifier_tokens

    @property
    def total_flops(self) -> float:
        return self.generator_flops + self.verifier_flops

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def times(self, k: int) -> Cost:
        return Cost(*(k * a for a in astuple(self)))

    @property
    def flops_known(self) -> bool:
        return not math.isnan(self.total_flops + self.generator_flops_naive)

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), "total_tokens": self.total_tokens,
                "total_flops": self.total_flops}
        return {k: known_or_none(v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cost:
        """A cost read back from JSON (null FLOPs: unknown)."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        return cls(**{k: UNKNOWN if v is None else v for k, v in values.items()})


@dataclass(frozen=True)
class Budget:
    """Per-problem limits; None means unlimited."""

    tokens: float | None = None
    flops: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("budget_tokens", self.tokens), ("budget_flops", self.flops)):
            if value is not None and not value > 0:
                raise BudgetError(f"{name}={value} must be a positive number (e.g. 2e14)")

    @property
    def is_set(self) -> bool:
        return self.tokens is not None or self.flops is not None

    def fits(self, cost: Cost) -> bool:
        return ((self.tokens is None or cost.total_tokens <= self.tokens)
                and (self.flops is None or cost.total_flops <= self.flops))

    def how_many(self, spent: Cost, fixed: Cost, each: Cost) -> int:
        """How many steps costing at most ``each`` fit after ``spent + fixed``."""
        counts = []
        for limit, used, unit in (
            (self.tokens, (spent + fixed).total_tokens, each.total_tokens),
            (self.flops, (spent + fixed).total_flops, each.total_flops),
        ):
            if limit is None:
                continue
            room = limit - used
            counts.append(-1 if room < 0 else int(room // unit) if unit > 0 else 1 << 30)
        return min(counts) if counts else 1 << 30

    def to_dict(self) -> dict[str, float | None]:
        return {"tokens": self.tokens, "flops": self.flops}


class Pricer:
    """Prices the work of one generator and, when one is used, its verifier."""

    def __init__(self, generator: ConfigLike | None,
                 verifier: ConfigLike | None = None) -> None:
        """``generator`` None: its FLOPs are unknown (NaN), its tokens still counted."""
        self.spec: ModelSpec | None = (
            None if generator is None else load_model_spec(generator)
        )
        self.verifier_spec: ModelSpec | None = (
            None if verifier is None else load_model_spec(verifier)
        )

    def verify(self, tokens: int) -> Cost:
        """The verifier reading ``tokens`` tokens: a prefill, paid each time it reads them
        (vLLM's token classification does not reuse the prefix cache)."""
        if tokens == 0:
            return Cost()  # a verifier that reads nothing (an oracle) costs nothing
        if self.verifier_spec is None:
            raise ValueError("no verifier to price: build the Pricer with its config")
        flops = sequence_flops(self.verifier_spec, tokens, 0).prefill
        return Cost(verifier_tokens=tokens, verifier_flops=flops)

    @property
    def flops_known(self) -> bool:
        return self.spec is not None

    def prefill(self, prompt_tokens: int) -> Cost:
        flops = UNKNOWN if self.spec is None else sequence_flops(self.spec, prompt_tokens,
                                                                 0).prefill
        return Cost(prompt_tokens=prompt_tokens, generator_flops=flops)

    def insert(self, context: int, tokens: int) -> Cost:
        """``tokens`` a strategy writes into a sequence of ``context`` tokens ("Wait", an
        answer cue, a revision prompt): read by the model like a prompt, at their place."""
        if tokens <= 0:
            return Cost()
        flops = UNKNOWN if self.spec is None else sequence_flops(self.spec, context,
                                                                 tokens).decode
        return Cost(prompt_tokens=tokens, generator_flops=flops)

    def sample(self, prompt_tokens: int, completion_tokens: int) -> Cost:
        """One sample's decode, its prompt already prefilled (naive adds the prefill)."""
        if self.spec is None:
            return Cost(completion_tokens=completion_tokens, generator_flops=UNKNOWN,
                        generator_flops_naive=UNKNOWN)
        flops = sequence_flops(self.spec, prompt_tokens, completion_tokens)
        return Cost(completion_tokens=completion_tokens, generator_flops=flops.decode,
                    generator_flops_naive=flops.prefill + flops.decode)

    def model_info(self) -> dict[str, Any] | None:
        """The generator's size (None: unknown, it has no config here)."""
        if self.spec is None:
            return None
        params = self.spec.params
        return {"params_total": params.total, "params_non_embedding": params.non_embedding,
                "params_active": params.active, "params_method": params.method,
                "model_type": self.spec.model_type}
