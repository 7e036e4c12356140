"""An outcome reward model: one score for a whole solution (a sequence-classification head,
as Skywork-Reward or Qwen2.5-Math-RM). The problem and the solution are shown as a user and
an assistant turn of the model's own chat template, as such models are trained.

In a search, partial solutions are scored the same way: an ORM judges the path so far.
"""

from __future__ import annotations

from collections.abc import Callable

from tts_eval.engines import Scorer
from tts_eval.verifiers.base import Reading, RewardModelVerifier


class OutcomeRewardVerifier(RewardModelVerifier):
    whole_solution = True

    def __init__(self, scorer: Scorer, problem_of: Callable[[str], str],
                 delimiter: str = "\n\n") -> None:
        super().__init__(scorer, delimiter)
        self.problem_of = problem_of

    def reading(self, index: int, prompt: str, solution: str) -> Reading:
        messages = [{"role": "user", "content": self.problem_of(prompt)},
                    {"role": "assistant", "content": solution.strip()}]
        return Reading(self.scorer.chat_token_ids(messages), None)
