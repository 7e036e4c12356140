"""Tests of the toy TTS world: task generator, step checker, tokenizer, shipped models in vLLM."""

from __future__ import annotations

import json
import random

import pytest

from tts_eval import toy
from tts_eval.grading import extract_answer as grading_extract
from tts_eval.toy import MODEL_NAMES, model_path
from tts_eval.toy.problems import (
    EVAL_SEED,
    LEVELS,
    WORKED_STYLES,
    check_steps,
    format_prm_input,
    format_prompt,
    load_problems,
    make_problems,
    noisy_solution,
    parse_step,
    write_eval_set,
)


def _recompute(steps: list[str]) -> int:
    """Answer recomputed from the step strings alone, checking the chain on the way."""
    value = None
    for s in steps:
        parsed = parse_step(s)
        assert parsed is not None, s
        a, op, b, c = parsed
        if value is not None:
            assert a == value, f"step {s!r} does not continue from {value}"
        exact = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
        if op == "/":
            assert a % b == 0
        assert c == exact, s
        value = c
    assert value is not None
    return value


# --- problems ---------------------------------------------------------------------------------


def test_make_problems_is_deterministic_and_seeded() -> None:
    for level in LEVELS:
        a = make_problems(20, level, seed=3)
        assert a == make_problems(20, level, seed=3)
        assert a != make_problems(20, level, seed=4)
        assert len({p["id"] for p in a}) == 20
    # a prefix of a longer list is the shorter list: n does not change the stream
    assert make_problems(5, 2, seed=1) == make_problems(9, 2, seed=1)[:5]


def test_problem_schema_and_gold_correctness() -> None:
    for level, spec in LEVELS.items():
        for p in make_problems(200, level, seed=0):
            assert set(p) >= {"id", "problem", "solution", "steps", "answer", "level"}
            assert p["level"] == level
            assert len(p["steps"]) == spec.steps
            assert "\n" not in p["problem"]
            assert str(_recompute(p["steps"])) == p["answer"]
            assert int(p["answer"]) > 0
            answer_line = f"The answer is \\boxed{{{p['answer']}}}"
            assert p["solution"] == "\n".join([*p["steps"], answer_line])
            assert extract_answer(p["solution"]) == p["answer"]
            # every quantity of every step is stated in the problem text
            for s in p["steps"]:
                _, _, b, _ = parse_step(s)
                assert f" {b}" in p["problem"]
            assert all(check_steps(p, p["solution"]))


def test_levels_get_harder() -> None:
    def mean_digits(level: int) -> float:
        ps = make_problems(300, level, seed=0)
        return sum(len(p["answer"]) for p in ps) / len(ps)

    steps = [LEVELS[lv].steps for lv in sorted(LEVELS)]
    assert steps == sorted(steps) and steps[0] < steps[-1]
    assert mean_digits(1) < mean_digits(3) < mean_digits(5)
    ops5 = {parse_step(s)[1] for p in make_problems(300, 5, 0) for s in p["steps"]}
    assert ops5 == {"+", "-", "*", "/"}


def test_invalid_level() -> None:
    with pytest.raises(ValueError, match="level"):
        make_problems(1, 6, 0)


def test_eval_split_file_and_disjointness(tmp_path) -> None:
    path = tmp_path / "eval.jsonl"
    h1 = write_eval_set(path, per_level=30)
    h2 = write_eval_set(tmp_path / "again.jsonl", per_level=30)
    assert h1 == h2 and len(h1) == 64
    rows = load_problems(path)
    assert len(rows) == 150
    assert rows == [p for lv in range(1, 6) for p in make_problems(30, lv, EVAL_SEED)]
    # training streams (split="train") never reproduce the evaluation stream
    eval_texts = {r["problem"] for r in rows if r["level"] >= 3}
    train = [p["problem"] for lv in (3, 4, 5) for p in make_problems(2000, lv, 0, split="train")]
    assert not eval_texts & set(train)
    assert make_problems(10, 2, EVAL_SEED, split="train") != make_problems(10, 2, EVAL_SEED)


def test_format_prompt() -> None:
    p = make_problems(1, 1, 0)[0]
    assert format_prompt(p) == f"Problem: {p['problem']}\nSolution:\n"


# --- step checker -----------------------------------------------------------------------------


def test_check_steps_labels_right_and_wrong_steps() -> None:
    p = {"id": "x", "problem": "Tom has 37 apples. He buys 25 more. Then he gives away 18. "
                               "How many apples does he have?",
         "steps": ["37+25=62", "62-18=44"], "answer": "44", "level": 2,
         "solution": "37+25=62\n62-18=44\nThe answer is \\boxed{44}"}
    assert check_steps(p, p["solution"]) == [True, True, True]
    # arithmetic slip in step 1, carried forward consistently: only the prefix stays right
    assert check_steps(p, "37+25=63\n63-18=45\nThe answer is \\boxed{45}") == [False] * 3
    # step 2 slips
    assert check_steps(p, "37+25=62\n62-18=43\nThe answer is \\boxed{43}") == [True, False, False]
    # arithmetically right but not the problem's quantity / operation
    assert check_steps(p, "37+26=63\n63-18=45\nThe answer is \\boxed{45}")[0] is False
    assert check_steps(p, "37-25=12")[0] is False
    # commutative forms are accepted, a wrong answer line is not, extra lines are wrong
    assert check_steps(p, "25+37=62\n62-18=44\nThe answer is \\boxed{44}") == [True] * 3
    assert check_steps(p, "37+25=62\n62-18=44\nThe answer is \\boxed{45}") == [True, True, False]
    assert check_steps(p, "37+25=62\n62-18=44\nThe answer is \\boxed{44}\n1+1=2")[-1] is False
    # the worked styles' prefixes are part of a step line
    assert check_steps(p, "First 37+25=62\nThen 62-18=44\nThe answer is \\boxed{44}") == [True] * 3
    assert check_steps(p, "Step 1: 37+25=62\nSo 62-18=43") == [True, False]
    # a run of +/- may be done in any order; the count must stay positive
    assert check_steps(p, "37-18=19\n19+25=44\nThe answer is \\boxed{44}") == [True] * 3
    assert check_steps(p, "37-18=19\n25+19=44\nThe answer is \\boxed{44}") == [True] * 3
    assert check_steps(p, "37-18=19\n19-18=1") == [True, False]  # an operation done twice
    # prefix labels: nothing after a wrong line is right; an answer line ends the solution
    assert check_steps(p, "hello\n62-18=44") == [False, False]
    assert check_steps(p, "hello\n37+25=62") == [False, False]
    assert check_steps(p, "The answer is \\boxed{44}") == [True]  # a bare answer: right or wrong
    assert check_steps(p, "The answer is \\boxed{45}") == [False]
    assert check_steps(p, "37+25=62\nThe answer is \\boxed{44}\n62-18=44") == [True, True, False]
    assert check_steps(p, p["solution"] + "\n62-18=44") == [True, True, True, False]
    assert check_steps(p, p["solution"] + "\n" + p["solution"])[3:] == [False] * 3
    assert check_steps(p, "37+25=62\n\n62-18=44\n") == [True, True]
    assert check_steps(p, "") == []


def _exact(step: tuple[int, str, int, int]) -> bool:
    a, op, b, c = step
    return c == {"+": a + b, "-": a - b, "*": a * b, "/": a // b if a % b == 0 else None}[op]


def test_noisy_solutions_are_labelled_exactly() -> None:
    rng = random.Random(0)
    seen_wrong = 0
    styles = sorted(WORKED_STYLES)
    for level in LEVELS:
        for i, p in enumerate(make_problems(100, level, 5, split="train")):
            sol = noisy_solution(p, rng, 0.3, styles[i % len(styles)])
            labels = check_steps(p, sol)
            assert len(labels) == len(p["steps"]) + 1
            # slips are carried forward consistently: the lines still chain
            lines = sol.split("\n")
            chain = [parse_step(x) for x in lines[:-1]]
            assert all(nxt[0] == prev[3] for prev, nxt in zip(chain, chain[1:], strict=False))
            assert str(chain[-1][3]) == extract_answer(sol)
            # prefix labels: a step is right exactly when no slip happened up to it, and an
            # answer reached through slips that cancel out is still wrong
            exact_so_far = [all(_exact(c) for c in chain[: i + 1]) for i in range(len(chain))]
            assert labels == [*exact_so_far, exact_so_far[-1]]
            assert not labels[-1] or extract_answer(sol) == p["answer"]
            seen_wrong += not labels[-1]
    assert seen_wrong > 50


def test_prm_input_format() -> None:
    p = make_problems(1, 2, 0)[0]
    text = format_prm_input(p, p["steps"])
    assert text.startswith(format_prompt(p))
    assert text.count("<extra_0>") == len(p["steps"])
    assert text.endswith("<extra_0>\n")


# --- tokenizer and shipped models --------------------------------------------------------------


def test_tokenizer_is_constructed_deterministically_and_round_trips() -> None:
    from tts_eval.toy.tokenizer import build_tokenizer

    t1, t2 = build_tokenizer(), build_tokenizer()
    assert t1.get_vocab() == t2.get_vocab()
    p = make_problems(1, 5, 0)[0]
    text = format_prompt(p) + p["solution"]
    ids = t1(text, add_special_tokens=False)["input_ids"]
    assert t1.decode(ids) == text
    assert len(ids) < len(text) / 1.5  # template words are single tokens
    assert t1.convert_tokens_to_ids("<extra_0>") != t1.eos_token_id
    assert t1.decode(t1("ünïcode ∑ 42")["input_ids"]) == "ünïcode ∑ 42"


def test_tokenizer_survives_qwen2_loading(tmp_path) -> None:
    """transformers rebuilds a qwen2 model's tokenizer as Qwen2Tokenizer (so does vLLM): what
    they see must be exactly what the models were trained on."""
    from transformers import AutoTokenizer, Qwen2Config

    from tts_eval.toy.tokenizer import build_tokenizer

    built = build_tokenizer()
    built.save_pretrained(str(tmp_path))
    Qwen2Config(vocab_size=512, hidden_size=64, num_attention_heads=2).save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(str(tmp_path))
    assert type(loaded).__name__ == "Qwen2Tokenizer"
    texts = [format_prompt(p) + p["solution"] for lv in LEVELS for p in make_problems(50, lv, 0)]
    texts += [format_prm_input(p, p["steps"]) for p in make_problems(20, 5, 0)]
    texts += ["0123 00 1000 99999 -5 x=3.25 héllo 😀 <|endoftext|>"]
    for text in texts:
        ids = built(text, add_special_tokens=False)["input_ids"]
        assert loaded(text, add_special_tokens=False)["input_ids"] == ids
        assert loaded.decode(ids) == text


def test_model_path_names_and_errors(tmp_path, monkeypatch) -> None:
    for name in MODEL_NAMES:
        assert model_path(name).is_dir()
    with pytest.raises(ValueError, match="small, medium, large, prm"):
        model_path("huge")
    monkeypatch.setattr(toy, "MODELS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m tts_eval.toy.train"):
        model_path("small")


def test_shipped_models_have_loadable_configs() -> None:
    from safetensors import safe_open
    from transformers import AutoConfig, AutoTokenizer

    from tts_eval.toy.thinker import THINK_END, THINK_START, WORDS
    from tts_eval.toy.tokenizer import build_tokenizer

    built = build_tokenizer().get_vocab()
    sizes: dict[str, int] = {}
    accuracy: dict[str, tuple[float, float]] = {}
    for name in MODEL_NAMES:
        path = model_path(name)
        cfg = AutoConfig.from_pretrained(path)
        assert cfg.model_type == "qwen2"
        assert cfg.hidden_size // cfg.num_attention_heads >= 32  # vLLM CPU attention
        tok = AutoTokenizer.from_pretrained(path)
        if name == "thinker":  # its own words and delimiters; its template shows them
            assert tok.get_vocab() == build_tokenizer(WORDS, (THINK_START, THINK_END)).get_vocab()
            assert THINK_START in tok.chat_template
        else:
            assert tok.get_vocab() == built
        assert tok.eos_token == "<|endoftext|>"
        assert len(tok) <= cfg.vocab_size
        info = json.loads((path / "TRAINING.json").read_text())
        for key in ("seed", "data", "steps", "final_loss", "parameters", "train_seconds"):
            assert key in info, (name, key)
        assert len(info["data"]["sha256"]) == 64
        with safe_open(str(path / "model.safetensors"), "pt") as f:
            keys = set(f.keys())
        if name == "prm":
            assert cfg.architectures == ["Qwen2ForProcessRewardModel"]
            assert cfg.num_labels == 2
            assert {"score.0.weight", "score.0.bias", "score.2.weight", "score.2.bias"} <= keys
            assert "model.embed_tokens.weight" in keys
            assert cfg.step_tag_id == tok.convert_tokens_to_ids("<extra_0>")
        elif name == "thinker":
            assert cfg.architectures == ["Qwen2ForCausalLM"]
            sweep = info["eval"]["budget_forcing"]["sweep"]
            budgets = sorted(sweep, key=int)
            # the s1 curve: more thinking, more accuracy; cut early, answers are guesses
            assert sweep[budgets[-1]]["all"] > sweep[budgets[0]]["all"] + 0.2
            assert info["eval"]["budget_forcing"]["s1_control"] == 1.0
        else:
            assert cfg.architectures == ["Qwen2ForCausalLM"]
            assert "model.embed_tokens.weight" in keys
            sizes[name] = info["parameters"]
            overall = info["eval"]["by_level"]["all"]
            # the recorded vLLM measurements show test-time scaling: voting over 16 samples
            # beats one sample and greedy decoding by a clear margin
            assert overall["pass@1"] < overall["maj@16"] < overall["pass@16"]
            assert overall["maj@16"] > overall["greedy"] + 0.2
            accuracy[name] = overall["pass@1"], overall["maj@16"]
    # a family: each generator roughly 4x the one below, and more accurate, alone and voting
    assert 2.5 < sizes["medium"] / sizes["small"] < 6
    assert 2.5 < sizes["large"] / sizes["medium"] < 6
    for measure in (0, 1):
        assert (accuracy["small"][measure] < accuracy["medium"][measure]
                < accuracy["large"][measure])
    total = sum(f.stat().st_size for n in MODEL_NAMES for f in model_path(n).iterdir())
    assert total < 40 * 2**20


def test_training_is_reproducible(tmp_path) -> None:
    """Same seed -> bit-identical weights and data hash (a short run of the real trainer)."""
    import torch

    from tts_eval.toy.tokenizer import build_tokenizer
    from tts_eval.toy.train import GENERATORS, Spec, train_generator

    tok = build_tokenizer()
    base = GENERATORS["small"]
    spec = Spec(hidden=base.hidden, heads=base.heads, layers=2, steps=8, lr=base.lr, warmup=2)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:  # the trainer pins global torch state; give it back to the rest of the session
        infos = [train_generator("small", spec, 0, tmp_path / str(i), tok) for i in range(2)]
        other = train_generator("small", spec, 1, tmp_path / "2", tok)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    weights = [(tmp_path / str(i) / "small" / "model.safetensors").read_bytes() for i in range(3)]
    assert weights[0] == weights[1] and weights[0] != weights[2]
    assert infos[0]["data"]["sha256"] == infos[1]["data"]["sha256"] != other["data"]["sha256"]
    assert infos[0]["final_loss"] == infos[1]["final_loss"]


def extract_answer(text: str) -> str | None:
    """A toy solution's answer, read as the arith_tts task reads it."""
    return grading_extract(text, "math")


# --- real vLLM --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vllm_env() -> None:
    pytest.importorskip("vllm")


@pytest.mark.vllm
def test_vllm_small_generator_answers_in_boxed_format(vllm_env) -> None:
    """The smallest model in real vLLM: learnt the format; sampled, it both states bare answers
    and works solutions out from the problem's quantities; seeded samples reproduce."""
    from tts_eval.engines import SamplingSpec
    from tts_eval.toy.evaluate import make_engine, sample_solutions

    engine = make_engine(model_path("small"))
    probs = make_problems(8, 2, EVAL_SEED)
    prompts = [format_prompt(p) for p in probs]
    greedy = engine.generate(prompts, [SamplingSpec(temperature=0.0, max_tokens=120)] * 8)
    texts = [g.completions[0].text for g in greedy]
    assert all(extract_answer(t) is not None for t in texts), texts
    assert all(t.strip().endswith("}") for t in texts), texts  # stops at eos after the answer
    runs = [sample_solutions(engine, probs, n=16, temperature=0.8, seed=0, max_tokens=120)
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert all(len(set(samples)) > 1 for samples in runs[0])
    flat = [t for samples in runs[0] for t in samples]
    bare = sum(t.startswith("The answer is") for t in flat)
    assert 0.2 * len(flat) < bare < 0.95 * len(flat)  # both bare answers and worked solutions
    copied = 0
    for samples, p in zip(runs[0], probs, strict=True):
        gold = parse_step(p["steps"][0])
        firsts = [parse_step(t.split("\n")[0]) for t in samples]
        copied += any(f is not None and f[:3] == gold[:3] for f in firsts)
    assert copied >= 6, runs[0]  # worked solutions take their quantities from the problem text
    solved = sum(any(extract_answer(t) == p["answer"] for t in samples)
                 for samples, p in zip(runs[0], probs, strict=True))
    assert solved >= 4, runs[0]
    engine.close()


@pytest.mark.vllm
def test_vllm_prm_scores_correlate_with_correctness(vllm_env) -> None:
    """The bundled PRM in vLLM's pooling runner, on solutions the medium generator sampled:
    its scores separate right from wrong answers, and it prefers gold to corrupted solutions."""
    from tts_eval.metrics import auroc
    from tts_eval.toy.evaluate import make_engine, make_scorer, prm_step_scores, sample_solutions

    probs = [p for level in (2, 3, 4) for p in make_problems(10, level, EVAL_SEED)]
    generator = make_engine(model_path("medium"))
    samples = sample_solutions(generator, probs, n=8, temperature=0.8, seed=0)
    generator.close()
    prm = make_scorer(model_path("prm"))
    flat_p = [p for p, ss in zip(probs, samples, strict=True) for _ in ss]
    flat_s = [s for ss in samples for s in ss]
    scores = prm_step_scores(prm, flat_p, flat_s)
    for s, sol, p in zip(scores, flat_s, flat_p, strict=True):
        assert len(s) == len(check_steps(p, sol))
        assert all(0.0 <= v <= 1.0 for v in s)
    right = [extract_answer(sol) == p["answer"] for sol, p in zip(flat_s, flat_p, strict=True)]
    solution_auroc = auroc([min(s) if s else 0.0 for s in scores], right)
    rng = random.Random(1)
    pairs = [(p, p["solution"], noisy_solution(p, rng, 1.0)) for p in probs]  # every step slips
    paired = prm_step_scores(prm, [p for p, _, _ in pairs for _ in (0, 1)],
                             [sol for _, gold, bad in pairs for sol in (gold, bad)])
    wins = sum(paired[i][-1] > paired[i + 1][-1] for i in range(0, len(paired), 2))
    # TRAINING.json: solution AUROC 0.86 on 1600 medium samples; the test prints this run's
    # numbers (the gold-vs-twin win rate is above half, not high: see the PRM's TRAINING.json)
    print(f"PRM: solution AUROC {solution_auroc:.3f}, gold wins {wins}/{len(pairs)}")
    assert sum(right) >= 20 and len(right) - sum(right) >= 20
    assert solution_auroc > 0.7
    assert wins > len(pairs) / 2
    prm.close()


def test_the_toy_prm_preset_renders_what_the_prm_was_trained_on() -> None:
    """The verifier preset and the training data format must not drift apart."""
    from tts_eval.toy.problems import split_steps
    from tts_eval.verifiers import TOY_PRM_FORMAT

    fmt = TOY_PRM_FORMAT
    problem = make_problems(1, 3, EVAL_SEED)[0]
    steps = fmt.split(problem["solution"] + "\n\n")
    assert steps == split_steps(problem["solution"])
    assert fmt.render(format_prompt(problem), steps) == format_prm_input(problem, steps)
