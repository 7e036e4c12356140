"""Budget forcing, revisions and thinking delimiters on a scripted engine of characters.

The engine plays a model that thinks a scripted text and tries to close its thinking after
a few characters, so every rule (the cap over all rounds, ignoring early ends, the cue, the
answer after the end only) is checked against exact token ids. Real vLLM runs of the same
strategy are in tests/strategies/test_sequential_vllm.py.
"""

from __future__ import annotations

import pytest

from tts_eval.accounting.budget import Budget, BudgetError
from tts_eval.engines.base import Completion, Generation, SamplingSpec
from tts_eval.strategies import Problem, get_strategy
from tts_eval.strategies.thinking import (
    THINK_PRESETS,
    ThinkFormat,
    split_thought,
    think_format,
    with_token_ids,
)

TINY_CONFIG = {"model_type": "qwen2", "hidden_size": 128, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 256,
               "vocab_size": 1024, "tie_word_embeddings": True}
START, END, EOS = "<", ">", "\x00"  # one character = one token; "<" opens, ">" closes thinking
THINK = with_token_ids(ThinkFormat("test", START, END), lambda text: [ord(c) for c in text])


class CharEngine:
    """A model over characters: inside its thinking it writes ``thought`` (one step per
    token) and then the end of thinking; after the end it writes ``answer`` and EOS."""

    model_config = TINY_CONFIG

    def __init__(self, thought: str = "abcd", answer: str = " \\boxed{7}"):
        self.thought, self.answer = thought, answer
        self.calls: list[list[SamplingSpec]] = []
        self.prompts: list[list[int]] = []

    def token_ids(self, prompt, add_special_tokens=True):
        return list(prompt) if not isinstance(prompt, str) else [ord(c) for c in prompt]

    def count_tokens(self, prompt, add_special_tokens=True):
        return len(self.token_ids(prompt))

    def decode(self, ids):
        return "".join(chr(i) for i in ids if i != ord(EOS))

    def _next(self, text: str) -> str:
        if text.rfind(START) > text.rfind(END):  # thinking: the thought since the last "Wait"
            wait = text.rfind("Wait")
            since = len(text) - max(text.rfind(START) + 1, wait + 4 if wait >= 0 else 0)
            return self.thought[since] if since < len(self.thought) else END
        written = len(text[text.rfind(END) + 1:].removeprefix("Final Answer:"))
        return (self.answer + EOS)[written] if written <= len(self.answer) else EOS

    def generate(self, prompts, specs):
        self.calls.append(list(specs))
        out = []
        for prompt, spec in zip(prompts, specs, strict=True):
            ids = self.token_ids(prompt)
            self.prompts.append(ids)
            stop_ids = dict(spec.extra).get("stop_token_ids", [])
            new: list[int] = []
            finish, reason = "length", None
            while len(new) < spec.max_tokens:
                token = ord(self._next(self.decode(ids + new)))
                new.append(token)
                if token in stop_ids:
                    finish, reason = "stop", token
                    break
                if token == ord(EOS):
                    finish = "stop"
                    break
                if any(self.decode(new).endswith(s) for s in spec.stop):
                    finish, reason = "stop", next(s for s in spec.stop
                                                  if self.decode(new).endswith(s))
                    break
            out.append(Generation(len(ids), 0, [Completion(
                self.decode(new), len(new), finish, token_ids=tuple(new), stop_reason=reason)]))
        return out


def problem(prompt="Q: 3+4?\n", max_tokens=64, n=1, think=THINK):
    return Problem(prompt, SamplingSpec(n=n, temperature=0.8, seed=0, max_tokens=max_tokens),
                   "math", think=think)


def inside(ids: tuple[int, ...]) -> list[int]:
    """The ids between the opening and the end of thinking."""
    text = [chr(i) for i in ids]
    return list(ids[text.index(START) + 1: text.index(END)])


def test_a_natural_end_gets_the_cue_and_the_answer_is_read_after_it():
    engine = CharEngine()
    (record,) = get_strategy("budget_forcing", max_thinking_tokens=50).solve([problem()], engine)
    (sample,) = record.samples
    assert sample.text == "<abcd>Final Answer: \\boxed{7}"
    assert sample.answer == "7" and record.chosen_answer == "7"
    assert [r["ended"] for r in sample.rounds] == ["end", "stop"]
    assert sample.rounds[0]["appended"] == ">Final Answer:"
    assert sample.thinking_tokens == len("<abcd>") and sample.answer_tokens == len(
        "Final Answer: \\boxed{7}\x00")
    # the thinking round stopped on the end's token, and no task stop string applied
    assert dict(engine.calls[0][0].extra)["stop_token_ids"] == [ord(END)]


@pytest.mark.parametrize(("cap", "ignores"), [(3, 0), (9, 1), (14, 2), (40, 5)])
def test_thinking_never_passes_the_cap_over_all_rounds_and_waits_are_counted(cap, ignores):
    engine = CharEngine()
    strategy = get_strategy("budget_forcing", max_thinking_tokens=cap, num_ignore=ignores)
    (record,) = strategy.solve([problem()], engine)
    (sample,) = record.samples
    thought = inside(tuple(ord(c) for c in sample.text))
    assert len(thought) <= cap
    waits = sum(r["appended"] == "Wait" for r in sample.rounds)
    # "abcd" (4) then an end; each ignored end adds "Wait" (4) and 4 more thinking tokens
    fits = 0
    used = 4
    while fits < ignores and used + 4 < cap:
        fits, used = fits + 1, used + 8
    assert waits == fits
    ends = [r["ended"] for r in sample.rounds[:-1]]
    if cap < 4 or used > cap:
        assert ends[-1] == "cap"  # cut at exactly the cap, then closed with the cue
    assert sample.rounds[-2]["appended"] == ">Final Answer:"
    assert "Final Answer:" in sample.text and sample.answer == "7"
    # each round asked for no more than what was left of the cap
    asked = [specs[0].max_tokens for specs in engine.calls[:-1]]
    assert asked[0] == cap and all(a <= cap for a in asked)


def test_min_thinking_tokens_ignores_ends_until_reached():
    engine = CharEngine()
    (record,) = get_strategy("budget_forcing", max_thinking_tokens=100,
                             min_thinking_tokens=10).solve([problem()], engine)
    (sample,) = record.samples
    assert sample.text.startswith("<abcdWaitabcd>")  # 4 < 10: ignored; 12 >= 10: closed
    assert [r["appended"] for r in sample.rounds] == ["Wait", ">Final Answer:", ""]


def test_an_unclosed_thinking_has_no_answer_and_says_why():
    # plain sampling runs out of tokens inside the thinking the prompt opened
    engine = CharEngine(thought="abc \\boxed{9} and more")
    (record,) = get_strategy("sample", n=1).solve([problem("Q: <", max_tokens=16)], engine)
    (sample,) = record.samples
    assert "\\boxed{9}" in sample.text and sample.answer is None
    assert sample.answer_rule == "no answer: thinking never closed"
    assert sample.thinking_tokens == 16 and sample.answer_tokens == 0


def test_split_thought_reads_ids_first_then_text():
    decode = "".join
    think = ThinkFormat("t", "<think>", "</think>", (1,), (2,))
    # by ids: the end is token 2, even where decoding drops it (s1's special tokens)
    got = split_thought(think, "p", "xyans", [7, 8, 2, 9, 9], lambda ids: "a" * len(ids))
    assert (got.thinking_tokens, got.answer_tokens, got.answer_text, got.closed) == (
        3, 2, "aa", True)
    # by text, when the ids do not hold the end's own tokenisation
    toks = ["<think>", "x", "</thi", "nk>", "42"]
    got = split_thought(think, "p", "".join(toks), [5, 6, 7, 8, 9],
                        lambda ids: decode(toks[:len(ids)]))
    assert (got.thinking_tokens, got.answer_text, got.closed) == (4, "42", True)
    # no delimiter at all: a model that did not think; all of it is answer
    got = split_thought(think, "p", "42", [9], decode)
    assert (got.thinking_tokens, got.answer_text, got.closed) == (0, "42", None)
    # opened by the prompt (R1's template) and never closed: no answer
    got = split_thought(think, "p <think>\n", "so 42", [9, 9], decode)
    assert (got.thinking_tokens, got.answer_text, got.closed) == (2, None, False)


def test_presets_and_auto_read_the_chat_template():
    assert think_format("none") is None
    assert think_format("qwen3").end == "</think>"
    assert think_format("s1").end == "<|im_start|>answer"
    assert think_format("auto", "{% if x %}<think>\n{% endif %}") == THINK_PRESETS["qwen3"]
    assert think_format("auto", "<|im_start|>think") == THINK_PRESETS["s1"]
    assert think_format("auto", "{{ messages }}") is None and think_format("auto", None) is None
    assert think_format("none", None, "[T]", "[/T]").end == "[/T]"
    with pytest.raises(ValueError, match="unknown think preset 'qwen'.*qwen3"):
        think_format("qwen")
    with pytest.raises(ValueError, match="think_start and think_end go together"):
        think_format("auto", None, "[T]")


def test_budget_forcing_needs_delimiters_and_sane_caps():
    with pytest.raises(ValueError, match="needs a reasoning model's thinking delimiters.*think="):
        get_strategy("budget_forcing").solve([problem(think=None)], CharEngine())
    with pytest.raises(ValueError, match="min_thinking_tokens=9 is more than max_thinking"):
        get_strategy("budget_forcing", max_thinking_tokens=5, min_thinking_tokens=9)
    with pytest.raises(ValueError, match="max_thinking_tokens must be >= 1"):
        get_strategy("budget_forcing", max_thinking_tokens=0)


def test_a_budget_buys_chains_at_their_caps_and_is_never_exceeded():
    engine = CharEngine()
    prompt_tokens = len("Q: 3+4?\n") + 1  # the opening "<" is appended to the prompt
    per_chain = 20 + len(">Final Answer:") + 30  # thinking cap + closing + answer cap
    budget = Budget(tokens=prompt_tokens + 3 * per_chain + 5)
    strategy = get_strategy("budget_forcing", budget=budget, max_thinking_tokens=20,
                            max_answer_tokens=30, num_ignore=1)
    (record,) = strategy.solve([problem(n=None)], engine)
    assert len(record.samples) == 3 and record.budget["planned_samples"] == 3
    assert record.cost.total_tokens <= budget.tokens
    assert record.chosen_answer == "7"
    with pytest.raises(BudgetError, match="cannot buy one chain.*max_thinking_tokens=20"):
        get_strategy("budget_forcing", budget=Budget(tokens=30), max_thinking_tokens=20
                     ).solve([problem()], CharEngine())


# Revisions -------------------------------------------------------------------------------

CUE = "\n\nThe solution above may contain mistakes. Check it step by step and write a " \
      "corrected solution.\n"


class ReviserEngine(CharEngine):
    """Attempt k of a chain (k = revision prompts in its context) answers ``answers[k]``;
    ``max_model_len`` makes long chains drop their oldest attempts."""

    def __init__(self, answers, max_model_len=None):
        super().__init__()
        self.answers = answers
        if max_model_len is not None:
            self.max_model_len = max_model_len

    def generate(self, prompts, specs):
        self.calls.append(list(specs))
        out = []
        for prompt, spec in zip(prompts, specs, strict=True):
            self.prompts.append(list(prompt))
            k = self.decode(prompt).count(CUE)
            text = f"try {k}: \\boxed{{{self.answers[min(k, len(self.answers) - 1)]}}}"
            ids = tuple(ord(c) for c in text[: spec.max_tokens]) + (ord(EOS),)  # as vLLM: EOS kept
            out.append(Generation(len(prompt), 0, [Completion(self.decode(ids), len(ids),
                                                              "stop", token_ids=ids)]))
        return out


def test_revisions_see_their_previous_attempts_and_every_attempt_is_a_sample():
    engine = ReviserEngine(["1", "7", "7"])
    (record,) = get_strategy("revisions", n=2, revisions=3).solve(
        [problem("Q: 3+4?\n", think=None)], engine)
    assert [(s.chain, s.attempt) for s in record.samples] == [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert [s.answer for s in record.samples] == ["1", "7", "7"] * 2
    assert record.chosen_answer == "7"  # majority over all attempts
    # the third attempt's context: the prompt, attempt 1, the cue, attempt 2, the cue
    third = engine.decode(engine.prompts[-1])
    assert third == "Q: 3+4?\n" + "try 0: \\boxed{1}" + CUE + "try 1: \\boxed{7}" + CUE
    assert all(s.context_dropped is None for s in record.samples)
    # the revision prompts were read (prompt tokens), the attempts generated
    assert record.cost.prompt_tokens == len("Q: 3+4?\n") + 2 * 2 * len(CUE)


def test_revisions_select_last_votes_with_each_chains_last_attempt():
    engine = ReviserEngine(["5", "5", "9"])
    (majority,) = get_strategy("revisions", n=2, revisions=3).solve(
        [problem(think=None)], engine)
    (last,) = get_strategy("revisions", n=2, revisions=3, select="last").solve(
        [problem(think=None)], ReviserEngine(["5", "5", "9"]))
    assert majority.chosen_answer == "5" and last.chosen_answer == "9"
    assert last.samples[last.chosen_index].attempt == 2


def test_revisions_drop_the_oldest_attempts_when_the_context_would_overflow():
    prompt = "Q: 3+4?\n"
    attempt = len("try 0: \\boxed{1}")
    room = len(prompt) + 2 * (attempt + len(CUE)) + 20  # two attempts fit, not three
    engine = ReviserEngine(["1", "2", "3", "4"], max_model_len=room)
    (record,) = get_strategy("revisions", n=1, revisions=4).solve(
        [problem(prompt, max_tokens=20, think=None)], engine)
    assert [s.context_dropped for s in record.samples] == [None, None, None, 1]
    fourth = engine.decode(engine.prompts[-1])
    assert fourth.startswith(prompt + "try 1:") and "try 0:" not in fourth
    assert len(engine.prompts[-1]) + 20 <= room


def test_revisions_within_a_budget_and_bad_arguments():
    budget = Budget(tokens=len("Q: 3+4?\n") + 2 * (3 * 64 + 2 * len(CUE)) + 10)
    (record,) = get_strategy("revisions", revisions=3, budget=budget).solve(
        [problem(think=None)], ReviserEngine(["1", "7"]))
    assert len({s.chain for s in record.samples}) == 2
    assert record.cost.total_tokens <= budget.tokens
    with pytest.raises(ValueError, match="select='vote'; valid: majority, last"):
        get_strategy("revisions", select="vote")
    with pytest.raises(ValueError, match="needs a verifier"):
        get_strategy("revisions", select="best").solve([problem(think=None)], ReviserEngine(["1"]))


def test_a_prompt_that_opens_the_thinking_is_not_opened_again():
    engine = CharEngine()
    (record,) = get_strategy("budget_forcing", max_thinking_tokens=50).solve(
        [problem("Q: 3+4? <\n")], engine)
    text = record.samples[0].text
    assert START not in text and text.endswith(">Final Answer: \\boxed{7}")  # not opened twice


def test_a_tasks_revision_prompt_is_used_unless_the_user_gives_one():
    from dataclasses import replace

    task_problem = replace(problem(think=None), revision_prompt="\nAgain:\n")
    engine = ReviserEngine(["1", "7"])
    (record,) = get_strategy("revisions", n=1, revisions=2).solve([task_problem], engine)
    assert engine.decode(engine.prompts[-1]).endswith("\\boxed{1}\nAgain:\n")
    assert record.params["revision_prompt"] == "\nAgain:\n"
    engine = ReviserEngine(["1", "7"])
    get_strategy("revisions", n=1, revisions=2, revision_prompt="\nMine:\n").solve(
        [task_problem], engine)
    assert engine.decode(engine.prompts[-1]).endswith("\nMine:\n")


class EndingEngine(ReviserEngine):
    """Ends attempt k as vLLM reports it: the ids keep what ended it (EOS, or the tokens of a
    stop string) while the text drops it."""

    def __init__(self, ends):
        super().__init__(["1", "7", "7"])
        self.ends = ends

    def generate(self, prompts, specs):
        out = super().generate(prompts, specs)
        for generation in out:
            (c,) = generation.completions
            k = len(self.calls) - 1
            end = self.ends[k % len(self.ends)]
            ids = c.token_ids[:-1] + tuple(ord(ch) for ch in end)
            generation.completions[0] = Completion(
                c.text, len(ids), "stop", token_ids=ids,
                stop_reason=None if end == EOS else end)
        return out


@pytest.mark.parametrize("ends", [[EOS], ["\nQ:"]])
def test_revisions_feed_back_what_the_model_wrote_not_what_ended_it(ends):
    engine = EndingEngine(ends)
    (record,) = get_strategy("revisions", n=1, revisions=3).solve(
        [problem("Q: 3+4?\n", think=None)], engine)
    third = engine.prompts[-1]
    assert ord(EOS) not in third
    assert engine.decode(third) == ("Q: 3+4?\n" + "try 0: \\boxed{1}" + CUE
                                    + "try 1: \\boxed{7}" + CUE)
    assert [s.answer for s in record.samples] == ["1", "7", "7"]
