"""rebase: reward-balanced search (Wu et al. 2024). The search has a width of n leaves. At
each depth the width not yet used by finished solutions is shared among the open nodes in
proportion to softmax(score / rebase_temperature) (largest remainders round it), so good
partial solutions get many children and weak ones few or none; every finished node uses
one unit of width. The search ends when the width is used up; ``select`` picks among the
finished solutions (weighted majority, Wu et al.'s best rule, by default).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from tts_eval.accounting import Budget
from tts_eval.strategies.tree import Node, Search, TreeSearch, largest_remainder


class Rebase(TreeSearch):
    name = "rebase"
    needs_groups = False
    extra_args: ClassVar[tuple[str, ...]] = (
        "aggregate", "lookahead", "max_steps", "step_delimiter", "select",
        "rebase_temperature")

    def __init__(self, n: int | None = None, budget: Budget | None = None, *,
                 rebase_temperature: float = 0.1, **search_args: Any) -> None:
        super().__init__(n, budget, **search_args)
        if not rebase_temperature > 0:
            raise ValueError(f"strategy 'rebase': rebase_temperature must be > 0, got "
                             f"{rebase_temperature}")
        self.rebase_temperature = rebase_temperature

    @property
    def params(self) -> dict[str, Any]:
        params = {k: v for k, v in super().params.items() if k != "beam_width"}
        return {**params, "rebase_temperature": self.rebase_temperature}

    def plan(self, search: Search, children: list[Node]) -> None:
        for child in children:
            if child.finished:
                search.width -= 1
                if child.score is not None:
                    child.kept = True
                    search.final.append(child)
        open_ = sorted((c for c in children if not c.finished and c.score is not None),
                       key=lambda c: (-c.rank, c.id))
        if search.width <= 0 or not open_:
            search.plan = []
            return
        top = open_[0].rank
        weights = [math.exp((c.rank - top) / self.rebase_temperature) for c in open_]
        counts = largest_remainder(search.width, weights)
        search.plan = [(c, k, 0) for c, k in zip(open_, counts, strict=True) if k > 0]
        for child, _, _ in search.plan:
            child.kept = True
