"""The per-problem ledger of one batch: what each problem spent and what it may still spend.

A strategy asks ``afford`` before it starts a step (how many steps of a given worst-case
cost still fit the problem's budget), and is charged for what the engine and verifier
report they did. A charge past the limit raises ``BudgetExceeded`` (an exception, not an
``assert``: it must hold under ``python -O`` too). Without a budget, everything is
affordable and charges only count.
"""

from __future__ import annotations

from tts_eval.accounting.budget import Budget, BudgetError, Cost, Pricer

UNLIMITED = 1 << 30


class BudgetExceeded(RuntimeError):
    """A strategy spent past a problem's budget: a bug in the strategy, never user input."""


class Meter:
    """Costs of ``problems`` problems, priced by ``pricer`` and bounded by ``budget``."""

    def __init__(self, pricer: Pricer, budget: Budget, problems: int) -> None:
        if budget.flops is not None and not pricer.flops_known:
            raise BudgetError(
                f"budget_flops={budget.flops:g} needs the model's FLOPs, and its config is "
                "not here: pass model_config=PATH (its config.json), or budget in tokens "
                "(budget_tokens)"
            )
        self.pricer = pricer
        self.budget = budget
        self.spent = [Cost() for _ in range(problems)]

    def afford(self, problem: int, each: Cost, fixed: Cost | None = None) -> int:
        """How many steps costing at most ``each`` problem ``problem`` can still pay for,
        after ``fixed`` (for instance a prompt not yet prefilled)."""
        if not self.budget.is_set:
            return UNLIMITED
        return max(0, self.budget.how_many(self.spent[problem], fixed or Cost(), each))

    def charge(self, problem: int, cost: Cost) -> Cost:
        """Add ``cost`` to the problem's spend; raises if that passes its budget."""
        total = self.spent[problem] + cost
        if not self.budget.fits(total):
            raise BudgetExceeded(
                f"problem {problem} would spend {total.total_tokens} tokens / "
                f"{total.total_flops:.3e} FLOPs, past its budget {self.budget.to_dict()}"
            )
        self.spent[problem] = total
        return cost

    def charge_prefill(self, problem: int, prompt_tokens: int) -> Cost:
        return self.charge(problem, self.pricer.prefill(prompt_tokens))

    def charge_sample(self, problem: int, prompt_tokens: int, completion_tokens: int) -> Cost:
        return self.charge(problem, self.pricer.sample(prompt_tokens, completion_tokens))

    def charge_verifier(self, problem: int, tokens: int) -> Cost:
        return self.charge(problem, self.pricer.verify(tokens))
