"""Multiple-choice letters: a letter counts only when the response commits to it.

Cases written for each class of real-response error (not copied from any data set)."""

from __future__ import annotations

import pytest

from tts_eval.grading import extract_answer, grade
from tts_eval.grading.choice import find_choice


@pytest.mark.parametrize(
    ("response", "letter"),
    [
        # committed, phrased without "the answer is"
        ("Putting the pieces together, the right option is **C**.", "C"),
        ("All told, the most reasonable choice would be (B).", "B"),
        ("Having ruled out the others, the false statement is D.", "D"),
        ("**Hence the final structure is A.**", "A"),
        ("Looking at the spectra again, D seems the most plausible.", "D"),
        ("Option (B) gives the best agreement with the measured rate.", "B"),
        ("Weighing both, I'd go with A.", "A"),
        ("If forced to pick, I would select:\n\nC. 4.2 eV", "C"),
        ("The computed 3.1 eV is closest to option **B**.", "B"),
        ("The ratio comes out near 1.9, which corresponds to choice (D).", "D"),
        ("So the expected product is 2-methylbutanal (Option A).", "A"),
        ("The estimate is closest to:\n\nB. 3.2 eV", "B"),
        ("The best estimate is:\n\nx = 0.41 (option C)", "C"),
        ("Final answer:\n\n(C)", "C"),
        (r"Therefore $\boxed{B}$.", "B"),
        # the last commitment wins
        ("At first the answer is A. Rechecking the sign, the correct option is C.", "C"),
    ],
)
def test_committed_letters_are_found(response: str, letter: str) -> None:
    assert extract_answer(response, "choice") == letter


@pytest.mark.parametrize(
    "response",
    [
        # hedges between letters
        "It has to be either B or C; the data cannot separate them.",
        "The correct answer is A or D, since both give the same ring.",
        "The right option is C (or D, which is the same molecule).",
        "**The answer is B and D.**",
        # considered and rejected
        "Option A looks right at first, but the units do not work out.",
        "One might think the answer is B. It is not: the charge is wrong.",
        "C is not correct because the ring strain is too high.",
        # no option is correct
        "None of the four options matches the computed 7.3 eV.",
        "The correct answer is not among the listed options.",
        # letters that are labels of compounds, not options
        "Compound A is the most stable intermediate, and B forms from it.",
        "Mixing reagent A with catalyst (B) is the most efficient route.",
        # discussion without a choice
        "(A) is too small and (C) is too large.",
        # names that start with a letter: point groups, not options
        "The symmetry group is C2v.",
        "The closest option is D∞h, which is not correct for this molecule.",
        "The closest option is B, which is not right either.",
    ],
)
def test_responses_that_commit_to_no_single_letter_have_no_answer(response: str) -> None:
    assert extract_answer(response, "choice") is None


def test_a_hedge_never_votes_and_says_why() -> None:
    finding = find_choice("After all that, the answer is either B or C.")
    assert finding.letter is None
    assert finding.rule.startswith("hedges between letters")
    assert "either B or C" in finding.sentence
    graded = grade("After all that, the answer is either B or C.", "B", "choice")
    assert not graded.correct and graded.extracted is None


def test_the_finding_names_the_rule_and_the_sentence() -> None:
    finding = find_choice("Long derivation.\nThus the incorrect statement is B. Done.")
    assert (finding.letter, finding.rule) == ("B", "answer statement")
    assert finding.sentence == "Thus the incorrect statement is B."


OPTIONS = ["2.4 MeV", "~ 10^{-4} eV", "8", "the Golgi apparatus"]


@pytest.mark.parametrize(
    ("response", "letter", "why"),
    [
        (r"The splitting is therefore \boxed{10^{-4}\,\mathrm{eV}}.", "B", "is option B"),
        ("Adding the two counts, the answer is 8.", "C", "is option C"),
        (r"So the answer is $\frac{16}{2}$.", "C", "is option C"),  # equivalent value
        ("In the end the protein is stuck in the golgi apparatus.", None, "no letter"),
        ("The answer is the Golgi apparatus.", "D", "is option D"),
        ("The answer is 2.4 MeV.", "A", "is option A"),
        ("The answer is 2.4.", "A", "is option A"),  # units tolerated on either side
        ("The answer is 7.", None, "matches no option"),
        ("The answer is either B or C, so 8 or 2.4 MeV.", None, "hedges"),
    ],
)
def test_options_named_by_their_text_or_value(response: str, letter: str | None,
                                              why: str) -> None:
    graded = grade(response, letter or "A", "choice", options=OPTIONS)
    assert graded.extracted == letter, graded
    assert why in graded.reason


def test_an_answer_equal_to_two_options_names_neither() -> None:
    graded = grade("The answer is 8.", "A", "choice", options=["8", "8.0", "9", "10"])
    assert graded.extracted is None and "matches options A, B" in graded.reason


def test_options_beyond_d_are_ignored() -> None:
    graded = grade("The answer is 8.", "C", "choice", options=["1", "2", "8", "4", "8"])
    assert graded.extracted == "C"


def test_options_must_align_with_pairs() -> None:
    from tts_eval.grading import grade_many

    with pytest.raises(ValueError, match="one list of option texts"):
        grade_many([("A", "A"), ("B", "B")], "choice", options=[["1", "2", "3", "4"]])


def test_options_are_read_from_the_prompts_lettered_lines() -> None:
    from tts_eval.grading import options_in_prompt

    prompt = ("Which is right?\nA) a red herring in the question\n\n"
              "A) 2.4 MeV\nB) ~ 10^{-4} eV\nC) 8\nD) the Golgi apparatus\n")
    assert options_in_prompt(prompt) == ["2.4 MeV", "~ 10^{-4} eV", "8", "the Golgi apparatus"]
    assert options_in_prompt("(A) one\n(B) two\n(C) three\n(D) four") == [
        "one", "two", "three", "four"]
    assert options_in_prompt("A) one\nB) two\nD) four") is None
    assert options_in_prompt("no options here") is None
