"""dvts: diverse verifier tree search (Beeching et al. 2024, search-and-learn): n /
beam_width independent subtrees; each keeps only its best of beam_width children per step
and expands it beam_width times, so one strong early path cannot take over the whole
search as it can in beam search. Each subtree gives one answer; ``select`` picks among
them.
"""

from __future__ import annotations

from tts_eval.strategies.tree import Node, Search, TreeSearch


class DVTS(TreeSearch):
    name = "dvts"

    def plan(self, search: Search, children: list[Node]) -> None:
        groups: dict[int, list[Node]] = {}
        for position, child in enumerate(children):
            if child.parent is None:  # the first step: n children, beam_width per subtree
                child.group = position // self.beam_width
            groups.setdefault(child.group, []).append(child)
        plan = []
        for group, members in sorted(groups.items()):
            read = [c for c in members if c.score is not None]
            if not read:
                continue  # nothing it could afford to read: the subtree ends unanswered
            best = max(read, key=lambda c: (c.rank, -c.id))
            best.kept = True
            if best.finished:
                search.final.append(best)
            else:
                plan.append((best, self.beam_width, group))
        search.plan = sorted(plan, key=lambda p: (-p[0].rank, p[0].id))
