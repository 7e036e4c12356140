"""``tts-eval grade SAMPLES.jsonl [--kind math] [--out FILE] [--explain]``: re-grade a run.

Reads an lm-eval ``--log_samples`` file (``samples_<task>_<date>.jsonl``: ``target`` and
``filtered_resps``/``resps``) or any JSONL with ``response`` and ``gold`` fields (a null
``response`` falls back to ``extracted``; ``options`` or ``choices`` give a multiple-choice
row's option texts; ``model`` groups the accuracy), grades every row with the same engine
the tasks use, writes one verdict per row (index, extracted, correct, reason, evidence)
and prints the accuracy, per model when rows name one. ``--explain`` prints each verdict
for a reader: the answer found, the rule that decided and, for a choice, the sentence the
letter came from. For tts-eval's own tasks the response is a JSON "TTS record"; its chosen
``answer`` is what gets graded.

Bad input never produces a traceback: a missing or unreadable file is one error line and
exit status 2; a malformed row is reported and skipped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from .api import grade_many
from .types import DEFAULT_TIMEOUT, KINDS, Grade

_RESPONSE_KEYS = ("response", "pred", "prediction")
_GOLD_KEYS = ("gold", "target")
_USAGE_HINT = (
    "pass an lm-eval --log_samples file (samples_<task>_<date>.jsonl) or a JSONL file whose "
    "rows have 'response' and 'gold' fields"
)


class RowError(ValueError):
    """A row that cannot be graded; the message says what is wrong with it."""


def infer_kind(path: Path) -> str:
    """Answer kind from the file name: AIME -> integer, GPQA -> choice, otherwise math."""
    name = path.name.lower()
    if "aime" in name:
        return "integer"
    if "gpqa" in name:
        return "choice"
    return "math"


def _unwrap_tts_record(response: Any) -> Any:
    """tts-eval tasks log a JSON TTS record as the response; grade its chosen answer."""
    record = response
    if isinstance(response, str) and response.lstrip().startswith("{"):
        try:
            record = json.loads(response)
        except json.JSONDecodeError:
            return response
    if isinstance(record, dict) and record.get("tts_record"):
        if "answer" not in record:
            raise RowError("TTS record has no 'answer' field")
        return record["answer"]
    return response


def _first_text(value: Any) -> Any:
    """``filtered_resps`` is ``[str]`` or ``[[str]]`` depending on the lm-eval filter."""
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


class Row(NamedTuple):
    """One gradable row of a samples file."""

    index: int
    response: str | None
    gold: str
    options: list[str] | None
    model: str | None


def row_fields(row: Any) -> tuple[str | None, str]:
    """(response, gold) of one row, or RowError naming the problem."""
    if not isinstance(row, dict):
        raise RowError(f"expected a JSON object, got {type(row).__name__}")
    response: Any = None
    found_response = False
    for key in _RESPONSE_KEYS:
        if key in row and row[key] is not None:
            response, found_response = row[key], True
            break
    if not found_response:
        if "filtered_resps" in row:
            response, found_response = _first_text(row["filtered_resps"]), True
        elif "resps" in row:
            response, found_response = _first_text(row["resps"]), True
        elif "extracted" in row:  # published files that keep only the extracted answer
            response, found_response = row["extracted"], True
        elif any(key in row for key in _RESPONSE_KEYS):
            found_response = True  # a null response: graded as no answer
    gold = next((row[k] for k in _GOLD_KEYS if k in row), None)
    if not found_response or gold is None:
        raise RowError(
            "no response/gold fields (expected 'response' and 'gold', or lm-eval's "
            "'filtered_resps'/'resps' and 'target')"
        )
    response = _unwrap_tts_record(response)
    if response is not None and not isinstance(response, str):
        raise RowError(f"response is a {type(response).__name__}, not text")
    if isinstance(gold, list) and len(gold) == 1:
        gold = gold[0]
    if isinstance(gold, bool) or not isinstance(gold, (str, int, float)):
        raise RowError(f"gold is a {type(gold).__name__}, not text or a number")
    return response, str(gold)


def _row_options(row: dict[str, Any]) -> list[str] | None:
    """A row's option texts, from ``options``/``choices`` or lm-eval's logged ``doc``."""
    for holder in (row, row.get("doc") if isinstance(row.get("doc"), dict) else {}):
        for key in ("options", "choices"):
            value = holder.get(key)
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                return value
    return None


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _read_rows(path: Path, warn: Any) -> Iterator[Row]:
    with _open_text(path) as handle:
        for index, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                warn(f"{path}:{index + 1}: not valid JSON ({exc.msg}); row skipped")
                continue
            try:
                response, gold = row_fields(row)
            except RowError as exc:
                warn(f"{path}:{index + 1}: {exc}; row skipped")
                continue
            model = row.get("model")
            yield Row(index, response, gold, _row_options(row),
                      model if isinstance(model, str) else None)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tts-eval grade",
        description="Re-grade a saved run: one verdict per row plus the accuracy.",
    )
    parser.add_argument("samples", metavar="SAMPLES.jsonl", help="lm-eval samples file or JSONL")
    parser.add_argument(
        "--kind",
        choices=[*KINDS, "auto"],
        default="auto",
        help="answer kind (default: from the file name: aime -> integer, gpqa -> choice, "
        "else math)",
    )
    parser.add_argument("--out", metavar="FILE", help="write verdicts here (default: stdout)")
    parser.add_argument("--workers", type=int, default=None,
                        help="grading processes (default: one per CPU core)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per comparison (default: %(default)s)")
    parser.add_argument("--explain", action="store_true",
                        help="print each verdict for a reader: the answer found, the rule "
                        "that decided and, for a choice, the sentence the letter came from")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``tts-eval grade``; returns the exit status (0 ok, 1 nothing graded, 2 bad input)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "grade" and not Path("grade").exists():
        args_list = args_list[1:]
    parser = _build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)

    skipped = 0

    def warn(message: str) -> None:
        nonlocal skipped
        skipped += 1
        print(f"warning: {message}", file=sys.stderr)

    def fail(message: str, status: int = 2) -> int:
        print(f"error: {message}", file=sys.stderr)
        return status

    path = Path(args.samples)
    if not path.exists():
        return fail(f"{path}: no such file; {_USAGE_HINT}")
    if path.is_dir():
        candidates = sorted(p.name for p in path.glob("samples_*.jsonl"))[:5]
        hint = f" (for example {path / candidates[0]})" if candidates else ""
        return fail(f"{path} is a directory; pass one samples file inside it{hint}")
    if args.timeout <= 0:
        return fail("--timeout must be a positive number of seconds")
    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    kind = infer_kind(path) if args.kind == "auto" else args.kind
    try:
        rows = list(_read_rows(path, warn))
    except PermissionError:
        return fail(f"{path}: permission denied; check the file's permissions")
    except UnicodeDecodeError:
        return fail(f"{path}: not UTF-8 text; {_USAGE_HINT}")
    except (OSError, EOFError) as exc:
        return fail(f"{path}: cannot read ({exc}); {_USAGE_HINT}")
    if not rows:
        return fail(f"{path}: no gradable rows; {_USAGE_HINT}", status=1)

    options = [row.options for row in rows]
    try:
        grades = grade_many(
            [(row.response, row.gold) for row in rows],
            kind=kind,
            workers=args.workers,
            timeout=args.timeout,
            options=options if kind == "choice" and any(options) else None,
        )
    except KeyboardInterrupt:
        return fail("interrupted", status=130)
    lines = [
        json.dumps(
            {"index": row.index, "extracted": g.extracted, "correct": g.correct,
             "reason": g.reason, "evidence": g.evidence},
            ensure_ascii=False,
        )
        for row, g in zip(rows, grades, strict=True)
    ]
    out_stream: TextIO = sys.stdout
    if args.out:
        try:
            Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as exc:
            return fail(f"cannot write {args.out}: {exc.strerror or exc}")
    elif not args.explain:
        for line in lines:
            print(line)
        out_stream = sys.stderr
    if args.explain:
        for row, g in zip(rows, grades, strict=True):
            print(explain(row, g))
    correct = sum(g.correct for g in grades)
    no_answer = sum(g.extracted is None for g in grades)
    source = "inferred from the file name" if args.kind == "auto" else "from --kind"
    print(
        f"{path.name}: {correct}/{len(grades)} correct, accuracy {correct / len(grades):.4f} "
        f"(kind {kind}, {source}; {no_answer} without an answer; {skipped} rows skipped)",
        file=out_stream,
    )
    for line in per_model_accuracy(rows, grades):
        print(line, file=out_stream)
    return 0


def explain(row: Row, verdict: Grade) -> str:
    """One verdict in words: row, verdict, the answer found, the rule, the evidence."""
    mark = "correct" if verdict.correct else "wrong"
    found = "no answer" if verdict.extracted is None else f"answer {verdict.extracted!r}"
    text = f"row {row.index}: {mark}; {found}; gold {row.gold!r}; {verdict.reason}"
    if verdict.evidence:
        text += f'\n    from: "{verdict.evidence}"'
    return text


def per_model_accuracy(rows: list[Row], grades: list[Grade]) -> list[str]:
    """Accuracy per model, when the rows name their model (published multi-model files)."""
    by_model: dict[str, list[bool]] = {}
    for row, verdict in zip(rows, grades, strict=True):
        if row.model is not None:
            by_model.setdefault(row.model, []).append(verdict.correct)
    if not by_model:
        return []
    width = max(len(m) for m in by_model)
    return [
        f"  {model.ljust(width)}  {sum(v) / len(v):.4f}  ({sum(v)}/{len(v)})"
        for model, v in sorted(by_model.items())
    ]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
