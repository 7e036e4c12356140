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
- A first pass may stop thinking too early (after each step but the last, with hazard
  ``P_STOP``), as s1 observed of reasoning models. Half of those traces then close and answer
  with the value reached (wrong); the other half go on with "Wait" and finish the remaining
  steps. So where the model tries to close early, its next token is "Wait" about as often as
  the end of thinking, and a "Wait" that budget forcing appends there makes it finish the
  work: ignoring early ends raises accuracy, most on the levels with more steps.
- Complete passes close right after the last step; a few (``P_SELF_WAIT``) re-check on their
  own with an exact re-derivation, so a "Wait" after a complete pass is not harmful either.
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
P_RESUME = 0.5  # ... and then goes on after "Wait" (else it closes, answering too early)
P_SELF_WAIT = 0.15  # traces that re-check on their own after the last step
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
    """One thinking attempt: steps (maybe stopped early, maybe resumed after "Wait"), maybe a
    self re-check, the end, the answer."""
    lines = steps_of(problem, rng, p_slip)
    stop = None  # an exact attempt (a revision) is complete
    if p_slip:
        stop = next((i + 1 for i in range(len(lines) - 1) if rng.random() < P_STOP), None)
    if stop is not None and rng.random() >= P_RESUME:
        lines = lines[:stop]  # closes too early: answers the value reached so far
    elif stop is not None:
        lines = [*lines[:stop], WAIT, *lines[stop:]]
    elif rng.random() < P_SELF_WAIT:
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

