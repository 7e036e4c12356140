"""``toy-oracle``: exact step labels for the toy world's problems, the controlled verifier.

A perfect verifier (1 for a right step, 0 for a wrong one, from ``problems.check_steps``)
separates what a search algorithm does from what its reward model gets wrong; with
``oracle_noise=p`` each label flips with probability p (seeded by the solution text, so the
same sample always gets the same scores). It reads no tokens and costs no FLOPs.

The problem is found from the prompt's ``Problem: ...`` line among the arith_tts problems
(every level, the evaluation seed); a prompt that is not one of them is a clear error.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from functools import lru_cache

from tts_eval.engines import ScoredSteps

from .problems import ARITH_TTS_PROBLEMS_PER_LEVEL, EVAL_SEED, LEVELS, check_steps, make_problems

_PROBLEM_LINE_RE = re.compile(r"Problem: (.+?)\nSolution:\n", re.DOTALL)


@lru_cache(maxsize=1)
def _problems_by_text() -> dict[str, dict]:
    return {p["problem"]: p for level in LEVELS
            for p in make_problems(ARITH_TTS_PROBLEMS_PER_LEVEL, level, EVAL_SEED)}


class ToyOracleVerifier:
    """Exact (or, with ``noise``, flipped) step labels as scores."""

    model_config = None  # nothing to price: the oracle reads no tokens
    step_delimiter = "\n"  # the toy world writes one step per line

    def __init__(self, noise: float = 0.0, seed: int = 0) -> None:
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"toy-oracle: oracle_noise must be in [0, 1], got {noise}")
        self.noise = noise
        self.seed = seed

    def problem_of(self, prompt: str) -> dict:
        matches = _PROBLEM_LINE_RE.findall(prompt)
        problem = _problems_by_text().get(matches[-1]) if matches else None
        if problem is None:
            raise ValueError("toy-oracle: the prompt is not one of the arith_tts problems "
                             "(it knows only the toy world's; use a PRM preset elsewhere)")
        return problem

    def score(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[ScoredSteps]:
        out = []
        for prompt, solution in zip(prompts, solutions, strict=True):
            labels = check_steps(self.problem_of(prompt), solution)
            if self.noise:
                digest = hashlib.sha256(f"{self.seed}:{prompt}:{solution}".encode()).digest()
                rng = random.Random(digest)
                labels = [label != (rng.random() < self.noise) for label in labels]
            out.append(ScoredSteps([float(label) for label in labels], 0))
        return out

    def read_tokens(self, prompts: Sequence[str], solutions: Sequence[str]) -> list[int]:
        return [0] * len(solutions)
