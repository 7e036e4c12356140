"""A PRM that answers each step as a chat turn (RLHFlow's Llama3.1-8B-PRM style).

The conversation is the problem and first step as a user turn, then every later step as a
user turn, each answered by the assistant with the good token ("+"). A step's score is the
model's P(good) against P(bad) where it predicts that answer: the last token of the
generation prompt before it. Positions come from rendering the conversation up to each
answer with the model's own chat template, so any template works; an answer that does not
follow its generation prompt token for token is a ScoringError, never a misread score.
"""

from __future__ import annotations

from collections.abc import Callable

from tts_eval.engines import Scorer, ScoringError
from tts_eval.verifiers.base import Reading, RewardModelVerifier


class ChatTurnVerifier(RewardModelVerifier):
    def __init__(self, scorer: Scorer, split: Callable[[str], list[str]],
                 problem_of: Callable[[str], str], good: str = "+",
                 delimiter: str = "\n\n") -> None:
        super().__init__(scorer, delimiter)
        self.split = split
        self.problem_of = problem_of
        self.good = good

    def reading(self, index: int, prompt: str, solution: str) -> Reading:
        good_id = self.scorer.single_token_id(self.good)
        steps = self.split(solution)
        problem = self.problem_of(prompt)
        messages: list[dict[str, str]] = []
        for k, step in enumerate(steps):
            content = f"{problem} {step}" if k == 0 else step
            messages += [{"role": "user", "content": content},
                         {"role": "assistant", "content": self.good}]
        ids = self.scorer.chat_token_ids(messages) if messages else []
        positions = []
        for k in range(len(steps)):
            asked = self.scorer.chat_token_ids(messages[:2 * k + 1], add_generation_prompt=True)
            at = len(asked)
            if ids[:at] != asked or at >= len(ids) or ids[at] != good_id:
                raise ScoringError(
                    f"solution {index}: step {k + 1} ({steps[k][:60]!r}): the chat template "
                    f"does not put the answer {self.good!r} right after the generation prompt "
                    "as one token; this reward model does not fit the plus-minus preset")
            positions.append(at - 1)
        return Reading(ids, positions)
