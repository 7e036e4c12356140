"""The meter: each problem's ledger while a strategy runs; overspending raises, always."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tts_eval.accounting import Budget, BudgetError, BudgetExceeded, Cost, Meter, Pricer

TINY_CONFIG = {"model_type": "qwen2", "hidden_size": 128, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 256,
               "vocab_size": 1024, "tie_word_embeddings": True}


def test_afford_counts_worst_case_steps_left_per_problem():
    meter = Meter(Pricer(TINY_CONFIG), Budget(tokens=100), problems=2)
    step = Cost(completion_tokens=30)
    assert meter.afford(0, step, fixed=Cost(prompt_tokens=10)) == 3
    meter.charge(0, Cost(prompt_tokens=10, completion_tokens=45))
    assert meter.afford(0, step) == 1 and meter.afford(1, step) == 3  # ledgers are separate


def test_a_charge_past_the_budget_raises_and_is_not_booked():
    meter = Meter(Pricer(TINY_CONFIG), Budget(tokens=50), problems=1)
    meter.charge(0, Cost(completion_tokens=40))
    with pytest.raises(BudgetExceeded, match="problem 0 would spend 60 tokens"):
        meter.charge(0, Cost(completion_tokens=20))
    assert meter.spent[0].total_tokens == 40


def test_the_check_survives_python_dash_o():
    code = ("from tts_eval.accounting import Budget, BudgetExceeded, Cost, Meter, Pricer\n"
            f"meter = Meter(Pricer({TINY_CONFIG!r}), Budget(tokens=5), 1)\n"
            "try:\n    meter.charge(0, Cost(completion_tokens=6))\n"
            "except BudgetExceeded:\n    print('raised')\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "raised"


def test_without_a_budget_everything_is_affordable_and_counted():
    meter = Meter(Pricer(TINY_CONFIG), Budget(), problems=1)
    assert meter.afford(0, Cost(completion_tokens=10**9)) >= 1 << 20
    cost = meter.charge_sample(0, 7, 12)
    assert meter.spent[0] == cost and cost.completion_tokens == 12 and cost.generator_flops > 0


def test_without_a_config_flops_are_unknown_and_tokens_still_count():
    meter = Meter(Pricer(None), Budget(tokens=100), problems=1)
    meter.charge_prefill(0, 10)
    meter.charge_sample(0, 10, 20)
    spent = meter.spent[0]
    assert spent.total_tokens == 30 and not spent.flops_known
    assert math.isnan(spent.total_flops) and math.isnan(spent.generator_flops_naive)
    data = spent.to_dict()
    assert data["total_flops"] is None and data["generator_flops"] is None
    assert data["total_tokens"] == 30 and data["verifier_flops"] == 0.0
    json.dumps(data, allow_nan=False)  # valid JSON: unknown is null, never NaN
    back = Cost.from_dict(data)
    assert back.total_tokens == 30 and not back.flops_known
    assert Pricer(None).model_info() is None


def test_a_flops_budget_without_a_config_is_refused_with_the_fix():
    with pytest.raises(BudgetError, match="pass model_config=PATH"):
        Meter(Pricer(None), Budget(flops=1e12), problems=1)
    Meter(Pricer(TINY_CONFIG), Budget(flops=1e12), problems=1)  # known: fine
