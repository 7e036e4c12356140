"""Prompts and per-document scoring shared by the tts tasks' lm-eval YAMLs.

Zero-shot prompts as common practice has them: math asks for step-by-step reasoning
and a final ``\\boxed{}`` answer (the Qwen2.5-Math / DeepSeek-R1 evaluation prompt);
GPQA uses the simple-evals multiple-choice template with an ``Answer: LETTER`` line.
"""

from __future__ import annotations

from typing import Any

from tts_eval.metrics import score_record
from tts_eval.records import SampleRecord, TTSRecord, parse_record

MATH_PROMPT = "{problem}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
GPQA_PROMPT = (
    "Answer the following multiple choice question. The last line of your response should "
    "be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of "
    "ABCD. Think step by step before answering.\n\n{question}\n\n"
    "A) {A}\nB) {B}\nC) {C}\nD) {D}"
)


def math_prompt(doc: dict[str, Any]) -> str:
    return MATH_PROMPT.format(problem=doc["problem"])


def gpqa_prompt(doc: dict[str, Any]) -> str:
    choices = dict(zip("ABCD", doc["choices"], strict=True))
    return GPQA_PROMPT.format(question=doc["question"], **choices)


def record_from_response(
    response: str, kind: str, options: list[str] | None = None
) -> TTSRecord:
    """The TTS record of a response; plain text (another model) becomes a 1-sample record,
    its answer read as tts-vllm reads a sample's (a choice may name one of ``options``)."""
    record = parse_record(response)
    if record is not None:
        return record
    from tts_eval.grading import extract_answer, read_choices

    rule = None
    if kind == "choice":
        [(answer, rule, _)] = read_choices([response], [options] if options else None)
    else:
        answer = extract_answer(response, kind)
    return TTSRecord(
        strategy="external", params={}, answer_kind=kind, seed=None,
        samples=[SampleRecord(response, answer, 0, 0, None, answer_rule=rule)],
        chosen_index=0, chosen_answer=answer, prompt_tokens=0, cached_prompt_tokens=0,
    )


def process_results(doc: dict[str, Any], results: list[str], kind: str) -> dict[str, float]:
    """lm-eval ``process_results``: score one document's record against its gold answer."""
    record = record_from_response(results[0], kind, doc.get("choices"))
    return score_record(record, str(doc["answer"]))


def run_total(values: list[float]) -> float:
    """lm-eval aggregation for per-run totals (lm-eval has mean, not sum)."""
    return float(sum(values))
