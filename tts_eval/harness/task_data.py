"""Evaluation sets: from the Hugging Face Hub by default, or from a local directory.

``TTS_EVAL_DATA_DIR=DIR`` (or ``--metadata '{"data_dir": "DIR"}'``) makes every task
read local files with the names and fields of ``shared/data`` (math500.jsonl,
aime24.jsonl, aime25.jsonl, gpqa_diamond.jsonl.gz) instead of the Hub, for machines
without network. Both paths produce the same normalised rows, so prompts and grading
do not depend on where the data came from.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "TTS_EVAL_DATA_DIR"


class DataError(ValueError):
    """A data file or row that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Source:
    name: str
    local_file: str
    local_fields: tuple[str, ...]
    hub: tuple[str, str | None, str]  # (path, config, split)
    normalize: Callable[[dict[str, Any]], dict[str, Any]]


def _math_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row.get("unique_id") or row.get("id") or ""),
        "problem": str(row["problem"]),
        "answer": str(row["answer"]),
        "level": str(row.get("level", "")),
        "subject": str(row.get("subject", "")),
    }


def clean_gpqa_choice(text: str) -> str:
    """Strip, ' [title]' -> '. ', collapse double spaces.

    lm-eval's gpqa preprocess also deletes every ``[...]``; we don't: in GPQA-Diamond
    that erases IUPAC locants (``benzo[1,2-c:3,4-c']...``, ``spiro[4.5]``) and LaTeX,
    and in 12 questions makes different choices read the same.
    """
    return text.strip().replace(" [title]", ". ").replace("  ", " ")


def _gpqa_row(row: dict[str, Any]) -> dict[str, Any]:
    """Normalise a local or Hub GPQA row; choices shuffled with a seed per question."""
    if "Question" in row:  # Hub / original CSV columns
        row = {
            "id": row["Record ID"],
            "question": row["Question"],
            "correct_answer": row["Correct Answer"],
            "incorrect_answers": [row[f"Incorrect Answer {i}"] for i in (1, 2, 3)],
            "high_level_domain": row.get("High-level domain", ""),
        }
    correct = clean_gpqa_choice(row["correct_answer"])
    choices = [correct, *(clean_gpqa_choice(a) for a in row["incorrect_answers"])]
    if len(choices) != 4:
        raise DataError(
            f"GPQA row {row['id']}: expected 3 incorrect answers, got {len(choices) - 1}"
        )
    # Same order on every run and machine, whatever the run seed: seeded by the question id.
    random.Random(f"gpqa-choice-order:{row['id']}").shuffle(choices)
    return {
        "id": str(row["id"]),
        "question": row["question"].strip(),
        "choices": choices,
        "answer": "ABCD"[choices.index(correct)],
        "domain": str(row.get("high_level_domain", "")),
    }


SOURCES: dict[str, Source] = {
    "math500": Source("math500", "math500.jsonl", ("problem", "answer"),
                      ("HuggingFaceH4/MATH-500", None, "test"), _math_row),
    "aime24": Source("aime24", "aime24.jsonl", ("problem", "answer"),
                     ("HuggingFaceH4/aime_2024", None, "train"), _math_row),
    "aime25": Source("aime25", "aime25.jsonl", ("problem", "answer"),
                     ("math-ai/aime25", None, "test"), _math_row),
    "gpqa_diamond": Source("gpqa_diamond", "gpqa_diamond.jsonl.gz",
                           ("id", "question", "correct_answer", "incorrect_answers"),
                           ("Idavidrein/gpqa", "gpqa_diamond", "train"), _gpqa_row),
}


def _read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{line_no}: not valid JSON ({exc.msg}); fix or remove "
                                "that line") from None
            missing = [f for f in required if f not in row]
            if missing:
                raise DataError(f"{path}:{line_no}: missing field(s) {', '.join(missing)}; "
                                f"every row needs {', '.join(required)}")
            yield row


def data_dir(metadata: dict[str, Any] | None = None) -> Path | None:
    """The local data directory, if the user chose one."""
    chosen = (metadata or {}).get("data_dir") or os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser() if chosen else None


def load_rows(name: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Normalised rows of one evaluation set, local if a data dir is set, else the Hub."""
    try:
        source = SOURCES[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(SOURCES)}") from None
    local = data_dir(metadata)
    if local is not None:
        path = local / source.local_file
        if not path.is_file():
            raise DataError(
                f"{source.name}: {path} not found. {DATA_DIR_ENV}={local} must hold "
                f"{source.local_file} (fields: {', '.join(source.local_fields)}); unset "
                f"{DATA_DIR_ENV} to load {source.hub[0]} from the Hub instead"
            )
        rows = _read_jsonl(path, source.local_fields)
    else:
        import datasets

        hub_path, config, split = source.hub
        rows = datasets.load_dataset(hub_path, config, split=split)
    return [source.normalize(dict(row)) for row in rows]


def load_dataset_dict(name: str, **metadata: Any):
    """lm-eval ``custom_dataset`` entry point: metadata holds model_args and --metadata."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(load_rows(name, metadata))})
