"""The engine behind the run store: stored requests are answered without the engine, new
ones are stored as each finishes, and the answers are the engine's own. (Real vLLM runs
killed and resumed: tests/harness/test_resume.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tts_eval.engines import Completion, Generation, SamplingSpec
from tts_eval.engines.stored import StoredEngine, StoredScorer
from tts_eval.harness.storage import STORE_FOLDER, store_directory
from tts_eval.store import RunStore


class CountingEngine:
    """Deterministic completions from (prompt ids, seed); remembers what it was asked."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.asked: list[tuple[int, ...]] = []
        self.fail_after = fail_after

    def token_ids(self, prompt, add_special_tokens=True):
        return [ord(c) for c in prompt] if isinstance(prompt, str) else list(prompt)

    def count_tokens(self, prompt, add_special_tokens=True):
        return len(self.token_ids(prompt))

    def decode(self, token_ids):
        return "".join(chr(i) for i in token_ids)

    model_config = {"hidden_size": 8}

    def generate_each(self, prompts, specs):
        for index, (prompt, spec) in enumerate(zip(prompts, specs, strict=True)):
            if self.fail_after is not None and len(self.asked) == self.fail_after:
                raise RuntimeError("engine died")
            ids = tuple(self.token_ids(prompt))
            self.asked.append(ids)
            completions = [Completion(text=f"{sum(ids) + spec.seed + k}", completion_tokens=3,
                                      finish_reason="stop", token_ids=(1, 2, k))
                           for k in range(spec.n)]
            yield index, Generation(len(ids), 0, completions)

    def generate(self, prompts, specs):
        return [g for _, g in self.generate_each(prompts, specs)]


def _specs(k: int) -> list[SamplingSpec]:
    return [SamplingSpec(n=2, temperature=0.8, seed=i) for i in range(k)]


def test_stored_requests_are_not_generated_again(tmp_path):
    prompts = ["a", "bb", "ccc", "dddd"]
    reference = CountingEngine().generate(prompts, _specs(4))

    dying = StoredEngine(CountingEngine(fail_after=2), RunStore(tmp_path), "fp")
    with pytest.raises(RuntimeError, match="engine died"):
        dying.generate(prompts, _specs(4))
    assert RunStore(tmp_path).count() == 2  # each stored as it came, before the crash

    engine = CountingEngine()
    resumed = StoredEngine(engine, RunStore(tmp_path), "fp")
    assert resumed.generate(prompts, _specs(4)) == reference
    assert engine.asked == [(99, 99, 99), (100, 100, 100, 100)]  # only the missing two
    assert (resumed.reused, resumed.generated) == (2, 2)

    again = CountingEngine()
    assert StoredEngine(again, RunStore(tmp_path), "fp").generate(prompts, _specs(4)) == reference
    assert again.asked == []


def test_identical_requests_in_a_batch_are_generated_once(tmp_path):
    engine = CountingEngine()
    spec = SamplingSpec(n=2, seed=5)
    stored = StoredEngine(engine, RunStore(tmp_path), "fp")
    first, second, other = stored.generate(["ab", "ab", "abc"], [spec, spec, spec])
    assert first == second != other
    assert len(engine.asked) == 2 and stored.generated == 2
    assert RunStore(tmp_path).runs() == [] and RunStore(tmp_path).count() == 2


def test_every_sampling_parameter_and_the_model_are_in_the_key(tmp_path):
    store = RunStore(tmp_path)
    engine = CountingEngine()
    StoredEngine(engine, store, "fp").generate(["a"], [SamplingSpec(n=2, seed=1)])
    for spec in (SamplingSpec(n=3, seed=1), SamplingSpec(n=2, seed=2),
                 SamplingSpec(n=2, seed=1, temperature=0.5), SamplingSpec(n=2, seed=1,
                                                                         max_tokens=9),
                 SamplingSpec(n=2, seed=1, stop=("\n",))):
        StoredEngine(engine, store, "fp").generate(["a"], [spec])
    StoredEngine(engine, store, "other-model").generate(["a"], [SamplingSpec(n=2, seed=1)])
    assert len(engine.asked) == 7
    # the same ids sent as text or as ids are one request
    StoredEngine(engine, store, "fp").generate([[97]], [SamplingSpec(n=2, seed=1)])
    assert len(engine.asked) == 7


def test_scores_are_stored_too(tmp_path):
    class Scorer:
        calls = 0

        def score_positions(self, token_ids, positions):
            Scorer.calls += len(token_ids)
            pairs = zip(token_ids, positions, strict=True)
            return [[float(sum(ids)) + p for p in ps] for ids, ps in pairs]

        def score_sequences(self, token_ids):
            Scorer.calls += len(token_ids)
            return [float(len(ids)) for ids in token_ids]

    store = RunStore(tmp_path)
    first = StoredScorer(Scorer(), store, "prm")
    assert first.score_positions([[1, 2], [3]], [[0, 1], [0]]) == [[3.0, 4.0], [3.0]]
    assert first.score_sequences([[1, 2, 3]]) == [3.0]
    second = StoredScorer(Scorer(), RunStore(tmp_path), "prm")
    assert second.score_positions([[3], [1, 2], [5]], [[0], [0, 1], [0]]) == [
        [3.0], [3.0, 4.0], [5.0]]
    assert second.score_sequences([[1, 2, 3]]) == [3.0]
    assert Scorer.calls == 4  # 3 the first time, then only [5]


def test_where_the_store_goes():
    lm_eval = ["/venv/bin/lm_eval", "--model", "tts-vllm", "--output_path", "runs/A"]
    assert store_directory(None, lm_eval) == Path("runs/A") / STORE_FOLDER
    assert store_directory(None, ["/x/lm_eval", "-o", "out/results.json"]) == Path(
        "out") / STORE_FOLDER
    assert store_directory(None, ["/usr/lib/python3/site-packages/lm_eval/__main__.py",
                                  "--output_path=runs/B"]) == Path("runs/B") / STORE_FOLDER
    assert store_directory(None, ["/venv/bin/lm_eval", "--model", "tts-vllm"]) is None
    assert store_directory(None, ["pytest", "--output_path", "x"]) is None  # not lm_eval
    assert store_directory("off", lm_eval) is None
    assert store_directory("/data/store", lm_eval) == Path("/data/store")
