"""weighted_majority: n samples clustered by answer; each cluster weighs the sum of its
samples' verifier scores; the heaviest cluster wins (Wu et al. 2024's weighted voting).
Unanswered samples never vote. Sampling, scoring and charging are best_of_n's."""

from __future__ import annotations

from tts_eval.strategies.best_of_n import BestOfN
from tts_eval.strategies.voting import weighted_majority_choice


class WeightedMajority(BestOfN):
    name = "weighted_majority"

    def choose(self, clusters: list[int], scores: list[float]) -> int | None:
        return weighted_majority_choice(clusters, scores)
