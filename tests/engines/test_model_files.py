"""What a model's files give without an engine: a config for FLOPs, or None (unknown)
when only the tokenizer is here, and ``model_config=`` naming one."""

from __future__ import annotations

import logging
import shutil

import pytest

from tts_eval.engines.model_files import ModelFiles
from tts_eval.toy import model_path


@pytest.fixture
def tokenizer_only(tmp_path):
    for file in model_path("small").glob("tokenizer*"):
        shutil.copy(file, tmp_path)
    return tmp_path


def test_a_tokenizer_without_a_config_prices_nothing_and_says_how_to(tokenizer_only, caplog):
    files = ModelFiles(str(tokenizer_only), {})
    assert files.token_ids("1+2=")  # tokens are still counted
    with caplog.at_level(logging.WARNING):
        assert files.model_config is None
    assert "FLOPs are recorded as unknown; pass model_config=PATH" in caplog.text


def test_model_config_names_the_config_file_or_its_directory(tokenizer_only):
    directory = model_path("small")
    from_file = ModelFiles(str(tokenizer_only), {}, str(directory / "config.json"))
    assert from_file.model_config["hidden_size"] > 0  # the config, as a dict
    from_directory = ModelFiles(str(tokenizer_only), {}, str(directory))
    assert from_directory.model_config == str(directory)  # exact counts from its weights
    assert from_file.max_model_len == from_file.hf_config["max_position_embeddings"]


def test_a_missing_model_config_is_one_clear_error(tokenizer_only):
    with pytest.raises(ValueError, match="model_config=/no/such: no such config file"):
        ModelFiles(str(tokenizer_only), {}, "/no/such")
