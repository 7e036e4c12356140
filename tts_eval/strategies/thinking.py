"""Reasoning models: where a response's thinking ends and its answer begins.

A reasoning model (Qwen3, DeepSeek-R1 distills, s1, QwQ) writes its thinking between two
delimiters and its answer after the second. The answer is read only from after the end
delimiter: a response whose thinking never closed has no answer (it ran out of tokens while
thinking; grading its half-finished scratch work as an answer is the failure this module
exists to prevent). Thinking and answer tokens are counted apart, from token ids.

The delimiters are found in token ids first: s1's ``<|im_start|>answer`` starts with a
special token that decoding skips, so it is not in the text at all. Where the ids do not
contain the delimiter's own tokenisation (a model that merged it differently), the text is
searched and the token count is the shortest id prefix whose text holds the delimiter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

# Markers the "auto" preset looks for in a chat template, most specific first.
_S1_MARK = "<|im_start|>think"
_THINK_MARKS = ("<think>", "</think>")
THINK_NAMES = ("auto", "none", "qwen3", "r1", "s1")


@dataclass(frozen=True)
class ThinkFormat:
    """A reasoning model's thinking delimiters, and their token ids in its tokenizer."""

    name: str
    start: str
    end: str
    start_ids: tuple[int, ...] = ()
    end_ids: tuple[int, ...] = ()


THINK_PRESETS: dict[str, ThinkFormat] = {
    "qwen3": ThinkFormat("qwen3", "<think>", "</think>"),
    "r1": ThinkFormat("r1", "<think>", "</think>"),  # its template opens <think> in the prompt
    "s1": ThinkFormat("s1", "<|im_start|>think", "<|im_start|>answer"),
}


def think_format(name: str, chat_template: str | None = None, start: str | None = None,
                 end: str | None = None) -> ThinkFormat | None:
    """The delimiters of preset ``name`` (None for ``none``, or for ``auto`` when the chat
    template shows no thinking), or the custom pair ``start``/``end`` when both are given."""
    if start or end:
        if not (start and end):
            raise ValueError("think_start and think_end go together: give both delimiters "
                             "(e.g. think_start=<think>,think_end=</think>)")
        return ThinkFormat("custom", start, end)
    if name == "none":
        return None
    if name == "auto":
        template = chat_template or ""
        if _S1_MARK in template:
            return THINK_PRESETS["s1"]
        if any(mark in template for mark in _THINK_MARKS):
            return THINK_PRESETS["qwen3"]
        return None
    if name not in THINK_PRESETS:
        raise ValueError(f"unknown think preset {name!r}; valid: {', '.join(THINK_NAMES)}, "
                         "or a custom pair think_start=...,think_end=...")
    return THINK_PRESETS[name]


def with_token_ids(think: ThinkFormat, token_ids: Callable[[str], Sequence[int]]
                   ) -> ThinkFormat:
    """``think`` with its delimiters' ids in the model's tokenizer (``token_ids`` encodes a
    text without special tokens added)."""
    return replace(think, start_ids=tuple(token_ids(think.start)),
                   end_ids=tuple(token_ids(think.end)))


@dataclass(frozen=True)
class Thought:
    """One response split at its end of thinking."""

    thinking_tokens: int
    answer_tokens: int
    answer_text: str | None  # None: the thinking never closed, so there is no answer
    closed: bool | None  # None: the response did not think at all


def find_ids(ids: Sequence[int], pattern: Sequence[int], start: int = 0) -> int:
    """Index of the first occurrence of ``pattern`` in ``ids`` at or after ``start``; -1 if
    none."""
    width = len(pattern)
    if width == 0:
        return -1
    first = pattern[0]
    for i in range(start, len(ids) - width + 1):
        if ids[i] == first and tuple(ids[i : i + width]) == tuple(pattern):
            return i
    return -1


def split_thought(think: ThinkFormat, prompt: str | Sequence[int], text: str,
                  token_ids: Sequence[int], decode: Callable[[Sequence[int]], str]) -> Thought:
    """Where ``text`` (generated as ``token_ids`` after ``prompt``) stops thinking.

    Thinking is open when the response starts with the start delimiter or the prompt ends
    with it (R1's and s1's templates open it for the model). A response with neither
    delimiter did not think: all of it is answer.
    """
    total = len(token_ids)
    at = find_ids(token_ids, think.end_ids)
    if at >= 0:
        cut = at + len(think.end_ids)
        return Thought(cut, total - cut, decode(token_ids[cut:]), True)
    if think.end in text:
        cut = shortest_prefix_with(think.end, token_ids, decode)
        answer = text.split(think.end, 1)[1]
        return Thought(cut, total - cut, answer, True)
    if _opens(think, prompt, text, token_ids):
        return Thought(total, 0, None, False)
    return Thought(0, total, text, None)


def _opens(think: ThinkFormat, prompt: str | Sequence[int], text: str,
           token_ids: Sequence[int]) -> bool:
    if text.lstrip().startswith(think.start):
        return True
    if think.start_ids and find_ids(token_ids[: len(think.start_ids) + 2], think.start_ids) >= 0:
        return True
    if isinstance(prompt, str):
        return prompt.rstrip().endswith(think.start)
    tail = list(prompt[-(len(think.start_ids) + 2):]) if think.start_ids else []
    return bool(tail) and find_ids(tail, think.start_ids) >= 0


def shortest_prefix_with(needle: str, token_ids: Sequence[int],
                          decode: Callable[[Sequence[int]], str]) -> int:
    """The fewest leading tokens whose text contains ``needle`` (binary search: text only
    grows with more tokens)."""
    low, high = 1, len(token_ids)
    while low < high:
        mid = (low + high) // 2
        if needle in decode(token_ids[:mid]):
            high = mid
        else:
            low = mid + 1
    return high
