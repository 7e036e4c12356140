"""beam_search: n beams; after every step the verifier's best n / beam_width go on, each
expanded beam_width times (Snell et al. 2024; search-and-learn's beam search).

Finished beams are set aside as answers; the final answer is chosen among them by
``select`` (weighted majority by default, as Snell et al.'s "best-of-N weighted").
"""

from __future__ import annotations

from tts_eval.strategies.tree import Node, Search, TreeSearch


class BeamSearch(TreeSearch):
    name = "beam_search"

    def plan(self, search: Search, children: list[Node]) -> None:
        read = [c for c in children if c.score is not None]
        for child in read:
            if child.finished:
                child.kept = True
                search.final.append(child)
        open_ = sorted((c for c in read if not c.finished), key=lambda c: (-c.rank, c.id))
        keep = open_[: self.n // self.beam_width]
        for child in keep:
            child.kept = True
        search.plan = [(child, self.beam_width, 0) for child in keep]
