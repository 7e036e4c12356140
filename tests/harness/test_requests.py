"""Request gen_kwargs -> sampling spec: precedence, our private keys, seeds."""

from tts_eval.harness.requests import SamplingDefaults, request_seed, resolve_request

DEFAULTS = SamplingDefaults(temperature=0.7, top_p=0.95, top_k=20, max_gen_toks=512)


def resolve(gen_kwargs, **kw):
    args = dict(n=4, seed=0, eos="<eos>", default_answer_kind="math") | kw
    return resolve_request("prompt", gen_kwargs, DEFAULTS, **args)


def test_model_args_apply_when_the_request_is_silent():
    spec = resolve({"until": [], "tts_record": True, "tts_answer_kind": "choice"})
    assert spec.want_record and spec.answer_kind == "choice"
    s = spec.sampling
    assert (s.n, s.temperature, s.top_p, s.top_k, s.max_tokens) == (4, 0.7, 0.95, 20, 512)
    assert s.stop == ("<eos>",)
    assert dict(s.extra) == {}  # our keys never reach vLLM


def test_request_gen_kwargs_override_model_args():
    spec = resolve({"until": ["Question:"], "temperature": 0.2, "max_gen_toks": 64,
                    "top_p": 0.5, "min_p": 0.1})
    s = spec.sampling
    assert (s.temperature, s.top_p, s.max_tokens) == (0.2, 0.5, 64)
    assert s.stop == ("Question:", "<eos>")
    assert dict(s.extra) == {"min_p": 0.1}
    assert not spec.want_record and spec.answer_kind == "math"


def test_do_sample_false_means_greedy():
    assert resolve({"do_sample": False, "temperature": 0.9}).sampling.temperature == 0.0


def test_seed_depends_on_request_not_on_order():
    a = request_seed(0, "p1", {"x": 1})
    assert a == request_seed(0, "p1", {"x": 1})
    assert a != request_seed(1, "p1", {"x": 1})
    assert a != request_seed(0, "p2", {"x": 1})
    assert 0 <= a < 2**31
