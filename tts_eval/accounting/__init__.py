"""Accounting: what a problem spent and may spend, in tokens and FLOPs.

``model_spec`` reads a model's shape and parameter counts from its config (``checkpoint``
counts them exactly from safetensors headers), ``flops`` prices forward passes from that
shape, ``budget`` turns engine token counts into a problem's Cost and checks its Budget,
``meter`` keeps each problem's ledger while a strategy runs.
Imports nothing heavy (no torch, vLLM or lm-eval).
"""

from tts_eval.accounting.budget import Budget, BudgetError, Cost, Pricer, known_or_none
from tts_eval.accounting.flops import (
    GenerationFlops,
    SequenceFlops,
    flops_per_token,
    forward_flops,
    generation_flops,
    scoring_flops,
    sequence_flops,
)
from tts_eval.accounting.meter import BudgetExceeded, Meter
from tts_eval.accounting.model_spec import (
    ConfigLike,
    ModelSpec,
    ParamCount,
    count_params,
    load_model_spec,
)

__all__ = [
    "Budget",
    "BudgetError",
    "BudgetExceeded",
    "ConfigLike",
    "Cost",
    "GenerationFlops",
    "Meter",
    "ModelSpec",
    "ParamCount",
    "Pricer",
    "SequenceFlops",
    "count_params",
    "flops_per_token",
    "forward_flops",
    "generation_flops",
    "known_or_none",
    "load_model_spec",
    "scoring_flops",
    "sequence_flops",
]
