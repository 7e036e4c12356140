"""model_args are declared once (harness/model_args.py): typed, checked, documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from tts_eval.harness.model_args import ModelArgs, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_declared_one():
    assert markdown_table() in README.read_text(), (
        "README's model_args table differs from ModelArgs; paste markdown_table() into it")


def test_values_are_typed_and_the_rest_goes_to_vllm():
    args, rest = ModelArgs.parse({"pretrained": "m", "n": "16", "temperature": 1,
                                  "enforce_eager": "True", "budget_flops": "2e14",
                                  "max_num_seqs": 8, "batch_size": "auto"})
    assert (args.n, args.temperature, args.enforce_eager, args.budget_flops) == (
        16, 1.0, True, 2e14)
    assert rest == {"max_num_seqs": 8}  # a vLLM argument; lm-eval's batch_size is dropped
    assert args.engine_args() == {"enforce_eager": True}


def test_verifier_prefixed_vllm_args_go_to_the_verifier_engine_only():
    args, rest = ModelArgs.parse({"pretrained": "m", "dtype": "float32", "seed": 3,
                                  "verifier_kv_cache_memory_bytes": 1 << 28,
                                  "verifier_max_model_len": 1024, "verifier_device_ids": 1,
                                  "device_ids": "0;2"})
    assert args.verifier_engine_args(rest) == {
        "seed": 3, "dtype": "float32", "enforce_eager": False, "trust_remote_code": False,
        "kv_cache_memory_bytes": 1 << 28, "max_model_len": 1024, "device_ids": [1]}
    assert rest["device_ids"] == [0, 2]  # the generator's GPUs; the verifier has its own


@pytest.mark.parametrize(("given", "message"), [
    ({"pretrained": "m", "verifier_max_model_le": 9}, "unknown model_args "
                                                      "'verifier_max_model_le' (did you mean "
                                                      "verifier_max_model_len"),
    ({"pretrained": "m", "temprature": 0.5}, "unknown model_args 'temprature' (did you mean "
                                             "temperature"),
    ({"pretrained": "m", "n": 2.5}, "n=2.5 is not a valid int"),
    ({"pretrained": "m", "enforce_eager": "maybe"}, "enforce_eager='maybe' is not a valid bool"),
    ({"strategy": "majority"}, "needs pretrained="),
])
def test_bad_values_are_one_clear_error(given, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ModelArgs.parse(given)
