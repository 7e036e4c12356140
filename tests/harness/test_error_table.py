"""Every row of the README's table of errors, triggered through the public interface: the
message the user sees contains the row's excerpt. A row without a trigger, or a trigger
without a row, fails too, so the table and the code cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance

from tts_eval.engines.local_server import free_port
from tts_eval.harness.model import TTSVLLM
from tts_eval.harness.task_data import load_rows
from tts_eval.store import RunStore
from tts_eval.toy import model_path

README = Path(__file__).resolve().parents[2] / "README.md"
SMALL = str(model_path("small"))


def _table() -> dict[str, str]:
    text = README.read_text()
    body = text[text.index("## Errors you can meet"):]
    body = body[:body.index("\n## ")] if "\n## " in body else body
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`") and cells[0] != "situation":
            rows[cells[0]] = cells[1].strip("`").replace("\\|", "|")
    return rows


def _generate(**model_args) -> None:
    """One request through the model, as lm-eval sends it."""
    model = TTSVLLM(pretrained=SMALL, **model_args)
    request = Instance(request_type="generate_until", doc={},
                       arguments=("Problem: 2+3\nSolution:\n", {"until": ["\n\n"]}), idx=0)
    model.generate_until([request])


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path.parent


def _other_model_store(tmp: Path) -> None:
    store = RunStore(tmp / "store")
    store.register_model(SMALL, "fingerprint-of-old", "weights-since-overwritten",
                         {"directory": SMALL})
    store.close()
    TTSVLLM(pretrained=SMALL, store=str(tmp / "store"))


def _full_disk(tmp: Path) -> None:
    store = RunStore(tmp / "store")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages}")  # SQLite's own "disk is full"
    store.put("key", "generation", "fp", items=1, tokens=1, body={"text": "x" * 100_000})


def _tokenizer_only(tmp: Path) -> str:
    """A model known here by its tokenizer alone (served elsewhere)."""
    for file in model_path("small").glob("tokenizer*"):
        (tmp / file.name).write_bytes(file.read_bytes())
    return str(tmp)


def _flops_budget_without_config(tmp: Path) -> None:
    model = TTSVLLM(pretrained=_tokenizer_only(tmp), budget_flops=1e12,
                    base_url=f"http://127.0.0.1:{free_port()}/v1")
    request = Instance(request_type="generate_until", doc={},
                       arguments=("Problem: 2+3\nSolution:\n", {"until": ["\n\n"],
                                                               "max_gen_toks": 16}), idx=0)
    model.generate_until([request])


def _adaptive_below_its_budgets(tmp: Path) -> None:
    from tts_eval.strategies.calibration import Calibration, Choice, Setting

    choice = Choice(1000.0, 0, 0.5, 900.0)
    Calibration(unit="tokens", difficulty="agreement", edges=[],
                settings=[Setting("majority", {"n": 4})], table=[[choice]], single=[choice],
                use_pilot=[False], pilot={"n": 4}).save(tmp / "calibration.json")
    TTSVLLM(pretrained=SMALL, strategy="adaptive", calibration=str(tmp / "calibration.json"),
            budget_tokens=500)


TRIGGERS = {
    "unknown strategy": lambda tmp: TTSVLLM(pretrained=SMALL, strategy="beem_search"),
    "unknown model_arg": lambda tmp: TTSVLLM(pretrained=SMALL, beam_widht=4),
    "a value of the wrong type": lambda tmp: TTSVLLM(pretrained=SMALL, n="many"),
    "a budget too small for one answer": lambda tmp: _generate(budget_tokens=20),
    "a strategy without its verifier": lambda tmp: TTSVLLM(pretrained=SMALL,
                                                           strategy="best_of_n"),
    "an unknown verifier": lambda tmp: TTSVLLM(pretrained=SMALL, strategy="best_of_n",
                                               verifier="prm"),
    "a missing data file": lambda tmp: load_rows("math500", {"data_dir": str(tmp)}),
    "a data row without a field": lambda tmp: load_rows("math500", {"data_dir": str(
        _write(tmp / "math500.jsonl", '{"problem": "1+1"}\n'))}),
    "a data row that is not JSON": lambda tmp: load_rows("math500", {"data_dir": str(
        _write(tmp / "math500.jsonl", '{"problem": \n'))}),
    "no server answers": lambda tmp: _generate(
        base_url=f"http://127.0.0.1:{free_port()}/v1"),
    "engine arguments with `base_url`": lambda tmp: TTSVLLM(
        pretrained=SMALL, base_url="http://127.0.0.1:9/v1", enforce_eager=True),
    "out of memory (CPU KV cache)": lambda tmp: _generate(max_model_len=1 << 34),
    "a store from another model": _other_model_store,
    "a full disk under the store": _full_disk,
    "a FLOPs budget without the model's config": _flops_budget_without_config,
    "a `model_config` that is not there": lambda tmp: TTSVLLM(pretrained=SMALL,
                                                             model_config=str(tmp / "none")),
    "`strategy=adaptive` without a calibration": lambda tmp: TTSVLLM(
        pretrained=SMALL, strategy="adaptive", budget_tokens=1000),
    "`strategy=adaptive` under a budget below the calibrated ones": _adaptive_below_its_budgets,
}


def test_every_row_has_a_trigger_and_every_trigger_a_row():
    assert sorted(_table()) == sorted(TRIGGERS)


@pytest.mark.parametrize("situation", sorted(TRIGGERS))
def test_the_message_is_the_documented_one(situation, tmp_path):
    excerpt = _table()[situation]
    with pytest.raises(Exception) as info:  # noqa: PT011  (each row raises its own type)
        TRIGGERS[situation](tmp_path)
    message = re.sub(r"\s+", " ", str(info.value))
    assert excerpt in message, f"{situation}: {message}"
