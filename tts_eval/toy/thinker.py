"""The toy reasoning model's training texts: thinking that can slip, re-check on "Wait", and
revise a previous attempt.

A trace after the usual prompt (``format_prompt``) looks like::

    <think>
    26-20=6
    6-4=3
    Wait
    26-20=6
    6-4=2
    2+11=13
    </think>Final Answer: \\boxed{13}

Why these shapes, each one a behaviour a sequential strategy needs to show:

- First passes carry injected slips (``P_SLIP`` per step, carried forward), while every
  derivation after a "Wait" and every revised attempt is exact. A model trained on both
  imitates the slip rate of the context it is in, so re-deriving after "Wait" is more
  accurate than the first pass (s1's budget forcing with ``num_ignore``), and so is a revision
  (sequential revisions, Snell et al.).
- One rule after "Wait", wherever it comes: derive again from the first step, exactly. A
  complete pass re-checks on its own with ``P_CHECK``, a re-check is re-checked again with
  ``P_RECHECK`` (at most ``MAX_CHECKS`` in all). So where the model tries to close, "Wait" is
  a likely next token, and the "Wait" that budget forcing appends there is in distribution:
  what follows is a better derivation, which matters most on the levels with more steps.
  (An earlier design continued from the early stop instead; the tiny model lost its place in
  the problem, and a rare full re-check was learnt too poorly to help.)
- A first pass may stop thinking too early (after each step but the last, with hazard
  ``P_STOP``), as s1 observed of reasoning models. Half of those traces then close and answer
  with the value reached (wrong); the other half say "Wait" and derive again in full.
- Some traces are cut mid-thinking and answered at once with the last value written
  (``P_CUT``): forced to stop early, the model answers with what it has, so accuracy rises
  with the thinking budget.
- Some texts are revision transcripts: a first attempt, ``REVISION_PROMPT`` (the default of
  ``strategy=revisions``), and an exact second attempt.
"""

from __future__ import annotations

import random

from .problems import _gold_ops, format_prompt, noisy_solution

THINK_START, THINK_END = "<think>", "</think>"
WAIT = "Wait"
ANSWER_CUE = "Final Answer:"  # budget forcing's default cue: the thinker answers after it
REVISION_PROMPT = ("\n\nThe solution above may contain mistakes. Check it step by step and "
                   "write a corrected solution.\n")
P_SLIP = 0.15  # per-step slip rate of a first pass
P_STOP = 0.15  # after each step but the last, a first pass may stop thinking too early
P_RESUME = 0.5  # ... and then re-derives after "Wait" (else it closes, answering too early)
P_CHECK = 0.35  # a complete first pass re-checks on its own after the last step
P_RECHECK = 0.3  # a re-check is followed by another one
MAX_CHECKS = 3
P_CUT = 0.2  # traces cut mid-thinking and answered with the last value written
P_REVISION = 0.15  # revision transcripts (a first attempt, the prompt, an exact attempt)
#: Words the thinker's tokenizer makes single tokens (besides the toy templates').
WORDS = ("Wait Final Answer solution above may contain mistakes Check it step by and write "
         "a corrected")


def steps_of(problem: dict, rng: random.Random, p_slip: float) -> list[str]:
    """The equation lines of a worked solution with slips at rate ``p_slip``."""
    return noisy_solution(problem, rng, p_slip, "plain").split("\n")[:-1]


def _last_value(lines: list[str], problem: dict) -> str:
    """The last result written (the problem's first number when none is)."""
    for line in reversed(lines):
        if "=" in line and line.rsplit("=", 1)[1].strip().lstrip("-").isdigit():
            return line.rsplit("=", 1)[1].strip()
    return str(_gold_ops(problem)[0][0])


def attempt(problem: dict, rng: random.Random, p_slip: float) -> str:
    """One thinking attempt: steps (maybe stopped early), maybe re-checks after "Wait", the
    end, the answer. An exact attempt (``p_slip`` 0, a revision) is complete and unchecked."""
    lines = steps_of(problem, rng, p_slip)
    checks = 0
    if p_slip:
        stop = next((i + 1 for i in range(len(lines) - 1) if rng.random() < P_STOP), None)
        if stop is not None:
            lines = lines[:stop]
        if rng.random() < (P_RESUME if stop is not None else P_CHECK):
            checks = 1
            while checks < MAX_CHECKS and rng.random() < P_RECHECK:
                checks += 1
    for _ in range(checks):
        lines += [WAIT, *steps_of(problem, rng, 0.0)]
    thinking = "\n".join(lines) + "\n"
    if rng.random() < P_CUT:  # cut anywhere inside the thinking, answered at once
        thinking = thinking[: rng.randrange(0, len(thinking))]
        lines = [ln for ln in thinking.split("\n")[:-1]]
    answer = _last_value(lines, problem)
    return f"{THINK_START}\n{thinking}{THINK_END}{ANSWER_CUE} \\boxed{{{answer}}}"


def thinker_target(problem: dict, rng: random.Random) -> str:
    """The training target after ``format_prompt(problem)``: an attempt, or a revision
    transcript."""
    if rng.random() < P_REVISION:
        first = attempt(problem, rng, P_SLIP)
        return first + REVISION_PROMPT + attempt(problem, rng, 0.0)
    return attempt(problem, rng, P_SLIP)


def thinker_example(problem: dict, rng: random.Random) -> tuple[str, str]:
    return format_prompt(problem), thinker_target(problem, rng)

