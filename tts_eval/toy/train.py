"""Train the toy model family on CPU: three Qwen2 generators and a Qwen2 PRM.

    python -m tts_eval.toy.train --out tts_eval/toy/models --seed 0 [--only small ...]

Why these choices:
- Qwen2 architecture, head_dim 32: vLLM loads it natively, and its CPU attention needs >= 32.
- Generators ~4x apart in parameters (~0.3M, ~1.1M, ~4.3M), trained on one data stream for
  3000, 3600 and 4000 batches. Learning here is step-limited (digit arithmetic "clicks" after
  ~1000-2000 steps whatever the width), so every model gets well past that; the budget is ~4
  and ~14 one-thread CPU minutes, and ~25 minutes on two threads for the largest. The largest
  trains at half the others' learning rate (2e-3): at 4e-3 it ended *less* accurate than the
  medium one (pass@1 30% vs 33%), a width that the larger step size did not suit; at 2e-3 the
  family is monotone in size (see each TRAINING.json).
- The thinker (``toy.thinker``) has the large generator's shape and schedule (at medium's
  shape its re-derivations after "Wait" were too often wrong to help) and learns to think in
  ``<think>`` ... ``</think>``, re-derive after "Wait" and revise a previous attempt; its
  TRAINING.json holds what budget forcing and revisions buy on it.
- Training solutions carry injected arithmetic slips (``P_ERROR`` per step, carried forward
  consistently) and the models are deliberately undertrained: sampled at temperature ~0.8 they
  are right often but not always, and their mistakes disagree with each other.
- Openings. Worked solutions come in four equally likely styles (``WORKED_STYLES``), and in the
  last ``DIRECT_PHASE`` of training ``P_DIRECT`` of the word problems come with only their
  answer line, as in real corpora where many answers are stated without working. A trained
  model then opens ~35-50% of its solutions with a bare answer (right on level 1 at times,
  almost never above) and ~15% with each worked style: greedy decoding takes the single most
  likely opening and answers directly, while most samples work the problem out and agree. This
  is what Wang & Zhou (2024, "Chain-of-thought reasoning without prompting") report for
  pretrained LMs, and why majority voting beats greedy decoding here, as it does for real LMs
  (Wang et al. 2022). Bare answers come late because a model that sees them from the start
  does not learn the arithmetic in this budget (pilot: the 0.3M model with 60% bare answers
  throughout reached 6% pass@1, against 21% with them only at the end).
- Multi-digit arithmetic is what tiny models learn slowest, so 2 of every 7 batches are drills
  of bare equations, and weight decay is strong (1.0, decoupled), which speeds up the
  table-like learning of digit arithmetic (as in the grokking literature); both were
  decisive in pilot runs.
- The PRM starts from the medium generator, the most accurate one (it already reads the format
  and does arithmetic), and learns exact step labels (``check_steps``) of solutions the three
  generators actually sampled, plus synthetic slips to balance the classes, plus contrast sets
  (``prm_contrast_set``: a gold solution, the same with one result slipped, the same with a
  wrong answer line) so that right and wrong steps also come from the same problem: trained on
  generator samples alone (the earlier recipe, 400 steps at lr 1e-3) it mostly learnt "hard
  problem -> low score" and PRM best-of-16 stayed below majority voting. 500 steps at lr 2e-3,
  batches of similar length (``PRM_BUCKET``): ~6 CPU minutes on two threads. Measured (see
  prm/TRAINING.json): PRM-weighted voting beats majority voting on medium, and
  within-problem step AUROC is 0.77-0.83, but the PRM still does not check a step's
  arithmetic: among a problem's samples, a right step and a step whose result slipped score
  alike (AUROC ~0.5). Pilots at 300-700 steps, lr 1e-3 to 4e-3, with or without per-digit
  auxiliary labels, or on contrast sets alone, stayed at or below 0.79 within-problem AUROC on
  medium. Its within-problem skill is mostly telling worked solutions from bare answers and
  steps after a wrong one.
- Fixed seeds, a fixed data order and a fixed thread count (``--threads``, default 1): the same
  seed gives the same weights.

Every model directory gets config.json, model.safetensors (bf16), the tokenizer files and a
TRAINING.json (seed, data sha256, steps, final loss, wall time, vLLM-measured accuracies).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from .problems import (
    ANSWER_LINE,
    EVAL_SEED,
    LEVELS,
    STEP_TAG,
    WORKED_STYLES,
    check_steps,
    format_prm_input,
    format_prompt,
    make_problems,
    noisy_solution,
    parse_step,
    split_steps,
)
from .thinker import thinker_target

P_ERROR = 0.08  # per-step probability of a slip in the generator training solutions
DIRECT_PHASE = 0.25  # the last quarter of training steps also see bare answers ...
P_DIRECT = 0.4  # ... as this share of their word-problem targets (see the module docstring)
STYLES = sorted(WORKED_STYLES)  # worked solutions take each style with equal probability
VOCAB_SIZE = 512  # the tokenizer has 463 tokens; padded to a multiple of 64
THINKER_VOCAB_SIZE = 576  # the thinker's has 513 (its words and delimiters)
MAX_POSITIONS = 4096  # RoPE: no parameters; room for harnesses that ask for long contexts
DRILL = 0  # batch kind: arithmetic drill (see ``drill_examples``)
LEVEL_CYCLE = (1, 2, 3, DRILL, 4, 5, DRILL)  # kind of each batch, in turn
# Examples per batch by kind, ~1200 tokens each: short easy problems come in larger batches, so
# every step costs about the same, and the small batches buy many updates per CPU-minute.
BATCH_BY_LEVEL = {DRILL: 8, 1: 30, 2: 22, 3: 18, 4: 15, 5: 12}
DRILL_LINES = 24
EVAL_GUARD = 1000  # drop training problems equal to any of the first N eval problems per level


@dataclass(frozen=True)
class Spec:
    """Size and schedule of one model (steps, batch and lr fix its training compute)."""

    hidden: int
    heads: int
    layers: int
    steps: int
    lr: float
    warmup: int = 50
    weight_decay: float = 0.1
    threads: int = 1  # torch threads it was trained with: the same count gives the same bits


GENERATORS: dict[str, Spec] = {
    "small": Spec(hidden=64, heads=2, layers=4, steps=3000, lr=5e-3, weight_decay=1.0),
    "medium": Spec(hidden=128, heads=4, layers=4, steps=3600, lr=4e-3, weight_decay=1.0),
    "large": Spec(hidden=256, heads=8, layers=4, steps=4000, lr=2e-3, weight_decay=1.0,
                  threads=2),
}
# The reasoning model: large's shape, trained on thinking traces (``toy.thinker``).
THINKER = Spec(hidden=256, heads=8, layers=4, steps=4000, lr=2e-3, weight_decay=1.0,
               threads=2)
# A chat template that shows its thinking delimiters, so ``think=auto`` finds them.
THINKER_CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}Problem: {{ m['content'] }}\n"
    "Solution:\n{% endif %}{% endfor %}{% if add_generation_prompt %}<think>\n{% endif %}")
# Schedule only: the PRM takes the shape of the generator it starts from (PRM_INIT).
PRM_SPEC = Spec(hidden=0, heads=0, layers=0, steps=500, lr=2e-3, warmup=20, threads=2)
PRM_INIT = "medium"
PRM_BATCH = 32
PRM_CONTRAST_PER_LEVEL = 1000  # fresh training problems per level for contrast sets
PRM_BUCKET = 16  # batches sorted by length inside windows of this many (less padding)


def qwen2_config(spec: Spec, tokenizer: Any, **extra: Any) -> Any:
    """A Qwen2 config for ``spec`` with the toy tokenizer's special tokens."""
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=VOCAB_SIZE if len(tokenizer) <= VOCAB_SIZE else THINKER_VOCAB_SIZE,
        hidden_size=spec.hidden,
        intermediate_size=4 * spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def _sha256(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _eval_texts() -> set[str]:
    return {p["problem"] for lv in LEVELS for p in make_problems(EVAL_GUARD, lv, EVAL_SEED)}


def drill_examples(n: int, seed: int) -> list[tuple[str, str]]:
    """Arithmetic drill: ``DRILL_LINES`` exact equations of the task's kind per sequence.

    Why: exact multi-digit arithmetic is what tiny models learn slowest; a word problem carries
    1-5 equations in ~40-100 tokens, a drill sequence 24 in ~150, so mixing drills in teaches the
    arithmetic several times faster per CPU-minute. Equations are the gold steps of training
    problems (all levels), so their distribution is the task's.
    """
    per = n * DRILL_LINES // 5 + 1
    eqs = [s for lv in (1, 2, 3, 4, 5)
           for p in make_problems(per, lv, seed, split="train-drill") for s in p["steps"]]
    random.Random(f"tts-eval-toy:drill:{seed}").shuffle(eqs)
    return [("Compute:\n", "\n".join(eqs[i * DRILL_LINES : (i + 1) * DRILL_LINES]))
            for i in range(n)]


def generator_data(seed: int, spec: Spec, thinker: bool = False
                   ) -> tuple[list[list[tuple[str, str]]], str]:
    """(prompt, target) pairs for every batch in training order, and their sha256.

    Word problems come with worked solutions in a random one of ``WORKED_STYLES``, carrying
    slips (``P_ERROR``); in the last ``DIRECT_PHASE`` of the steps a target is the bare answer
    line instead with probability ``P_DIRECT``. Drills are exact. Slips have their own stream.
    The ``thinker``'s targets are thinking traces instead (``toy.thinker``).
    """
    need: dict[int, int] = {}
    for t in range(spec.steps):
        lv = LEVEL_CYCLE[t % len(LEVEL_CYCLE)]
        need[lv] = need.get(lv, 0) + BATCH_BY_LEVEL[lv]
    banned = _eval_texts()
    noise = random.Random(f"tts-eval-toy:noise:{seed}")
    style = random.Random(f"tts-eval-toy:style:{seed}")
    drills = iter(drill_examples(need.pop(DRILL, 0), seed))
    streams: dict[int, Iterator[dict]] = {}
    for lv in sorted(need):
        probs = [p for p in make_problems(need[lv] + need[lv] // 10 + 50, lv, seed, split="train")
                 if p["problem"] not in banned][: need[lv]]
        if len(probs) < need[lv]:
            raise RuntimeError(f"not enough distinct training problems at level {lv}")
        streams[lv] = iter(probs)
    direct_from = round(spec.steps * (1 - DIRECT_PHASE))
    batches = []
    for t in range(spec.steps):
        lv = LEVEL_CYCLE[t % len(LEVEL_CYCLE)]
        batch = []
        for _ in range(BATCH_BY_LEVEL[lv]):
            if lv == DRILL:
                batch.append(next(drills))
                continue
            p = next(streams[lv])
            if thinker:
                batch.append((format_prompt(p), thinker_target(p, noise)))
                continue
            worked = noisy_solution(p, noise, P_ERROR, style.choice(STYLES))
            direct = t >= direct_from and style.random() < P_DIRECT
            batch.append((format_prompt(p), worked.rsplit("\n", 1)[-1] if direct else worked))
        batches.append(batch)
    flat = [a + b for batch in batches for a, b in batch]
    return batches, _sha256(flat)


def _lr_at(step: int, spec: Spec) -> float:
    if step < spec.warmup:
        return spec.lr * (step + 1) / spec.warmup
    frac = (step - spec.warmup) / max(1, spec.steps - spec.warmup)
    return spec.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _optimizer(model: Any, lr: float, weight_decay: float) -> Any:
    import torch

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embed" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embed" not in n)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.98), eps=1e-8,
    )


def _pad(seqs: list[list[int]], labels: list[list[int]], pad_id: int) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    lab = torch.full((len(seqs), width), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, (s, y) in enumerate(zip(seqs, labels, strict=True)):
        ids[i, : len(s)] = torch.tensor(s)
        lab[i, : len(y)] = torch.tensor(y)
        mask[i, : len(s)] = 1
    return ids, lab, mask


def _update(model: Any, opt: Any, loss: Any, step: int, spec: Spec, losses: list[float],
            name: str, t0: float) -> None:
    """One optimiser step at the scheduled learning rate (clipped at norm 1), logged every 50."""
    import torch

    for g in opt.param_groups:
        g["lr"] = _lr_at(step, spec)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    losses.append(loss.item())
    if (step + 1) % 50 == 0 or step + 1 == spec.steps:
        recent = sum(losses[-50:]) / len(losses[-50:])
        print(f"[{name}] step {step + 1}/{spec.steps} loss {recent:.4f} "
              f"{time.time() - t0:.0f}s", flush=True)


def _seed_all(seed: int, threads: int = 1) -> None:
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)  # a fixed thread count keeps CPU results bitwise-reproducible
    torch.use_deterministic_algorithms(True)


def train_generator(name: str, spec: Spec, seed: int, out_dir: Path, tokenizer: Any,
                    threads: int | None = None) -> dict:
    """Train one generator and save it (bf16) with its tokenizer; returns TRAINING info."""
    import torch
    from transformers import Qwen2ForCausalLM

    threads = threads or spec.threads
    _seed_all(seed, threads)
    batches, data_hash = generator_data(seed, spec, thinker=name == "thinker")
    config = qwen2_config(spec, tokenizer)
    model = Qwen2ForCausalLM(config)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    n_embed = model.get_input_embeddings().weight.numel()
    opt = _optimizer(model, spec.lr, spec.weight_decay)
    eos = tokenizer.eos_token_id
    t0 = time.time()
    losses: list[float] = []
    for step, batch in enumerate(batches):
        seqs, labs = [], []
        for prompt, sol in batch:
            p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            s_ids = tokenizer(sol, add_special_tokens=False)["input_ids"] + [eos]
            seqs.append(p_ids + s_ids)
            labs.append([-100] * len(p_ids) + s_ids)
        ids, lab, mask = _pad(seqs, labs, tokenizer.pad_token_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
        _update(model, opt, loss, step, spec, losses, name, t0)
    train_seconds = time.time() - t0
    path = out_dir / name
    path.mkdir(parents=True, exist_ok=True)
    model.to(torch.bfloat16).save_pretrained(str(path), safe_serialization=True)
    tokenizer.save_pretrained(str(path))
    return {
        "model": name,
        "kind": "generator",
        "architecture": "Qwen2ForCausalLM",
        "seed": seed,
        "spec": asdict(spec),
        "parameters": n_params,
        "parameters_non_embedding": n_params - n_embed,
        "data": {
            "sha256": data_hash,
            "examples": sum(len(b) for b in batches),
            "batch_cycle (0 = drill)": list(LEVEL_CYCLE),
            "drill_lines": DRILL_LINES,
            "batch_by_level": BATCH_BY_LEVEL,
            "p_error_per_step": P_ERROR,
            "worked_styles": STYLES,
            "direct_answers": f"last {DIRECT_PHASE:.0%} of steps, {P_DIRECT:.0%} of targets",
            "problems": "make_problems(..., split='train', seed=seed), eval-split texts removed",
        },
        "steps": spec.steps,
        "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4),
        "train_seconds": round(train_seconds, 1),
        "torch_threads": threads,
        "prompt_format": "Problem: {problem}\\nSolution:\\n",
        "dtype_saved": "bfloat16",
    }


class _PRM:
    """Factory for the PRM module (torch imported lazily): Qwen2Model + vLLM's 2-label head.

    Weight names match vLLM's ``Qwen2ForProcessRewardModel``: ``model.*`` for the backbone and
    ``score.0`` (hidden->hidden, bias) / ``score.2`` (hidden->2, bias) around a ReLU.
    """

    @staticmethod
    def build(config: Any) -> Any:
        import torch
        from transformers import Qwen2Model

        class PRM(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = Qwen2Model(config)
                h = config.hidden_size
                self.score = torch.nn.Sequential(
                    torch.nn.Linear(h, h), torch.nn.ReLU(), torch.nn.Linear(h, 2)
                )

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)
                return self.score(hidden.last_hidden_state)

        return PRM()


def prm_examples(seed: int, sample_files: Sequence[Path], max_extra_lines: int = 2,
                 contrast_per_level: int = 0) -> list[dict]:
    """PRM training records: text with step tags + one exact label per tag.

    Sources: every solution the generators sampled on training problems (their real mistakes),
    plus for each of those problems one gold and one slip-injected solution (so the classes stay
    balanced on every level), plus ``prm_contrast_set`` for ``contrast_per_level`` fresh
    training problems per level (eval texts removed). Half the records drop the newline after
    each tag (the layout Qwen2.5-Math-PRM uses) so that either layout scores sensibly.
    """
    rng = random.Random(f"tts-eval-toy:prm:{seed}")
    recs: list[dict] = []
    sources: list[tuple[dict, list[str]]] = []
    for path in sample_files:
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            prob = row["problem"]
            sols = list(row["samples"])
            sols.append(prob["solution"])
            sols.append(noisy_solution(prob, rng, 0.35, rng.choice(STYLES)))
            sources.append((prob, sols))
    if contrast_per_level:
        banned = _eval_texts()
        for lv in sorted(LEVELS):
            for prob in make_problems(contrast_per_level, lv, seed, split="train-prm"):
                if prob["problem"] not in banned:
                    sources.append((prob, prm_contrast_set(prob, rng)))
    for prob, sols in sources:
        for sol in sols:
            steps = split_steps(sol)[: len(prob["steps"]) + max_extra_lines]
            if not steps:
                continue
            labels = check_steps(prob, "\n".join(steps))
            text = format_prm_input(prob, steps)
            if rng.random() < 0.5:
                text = text.replace(STEP_TAG + "\n", STEP_TAG)
            recs.append({"text": text, "labels": labels, "level": prob["level"]})
    rng.shuffle(recs)
    return recs


def _slip(gold: list[tuple[int, str, int, int]], i: int, rng: random.Random
          ) -> list[tuple[int, str, int, int]] | None:
    """The gold steps with step ``i``'s result off by a small offset, later steps redone
    exactly from the wrong value (None if no offset keeps every later step a positive
    integer)."""
    _, op, b, y = gold[i]
    rest = gold[i + 1 :]
    for _ in range(20):
        mag = rng.choice((1, 1, 2, 3, 10, 10, 20, 100))
        if any(g[1] == "/" for g in rest):
            mag = rng.choice((1, 2)) * math.lcm(*(g[2] for g in rest if g[1] == "/"))
        x = y + mag * rng.choice((-1, 1))
        steps = [*gold[:i], (gold[i][0], op, b, x)]
        for _, op2, b2, _ in rest:
            z = {"+": x + b2, "-": x - b2, "*": x * b2}.get(op2)
            if op2 == "/":
                z = x // b2 if x % b2 == 0 else None
            if z is None or z <= 0:
                break
            steps.append((x, op2, b2, z))
            x = z
        else:
            if x > 0:
                return steps
    return None


def prm_contrast_set(problem: dict, rng: random.Random) -> list[str]:
    """Solutions of one problem that differ only where the arithmetic goes wrong: the gold
    worked solution, the same with one step's result slipped (at a random position, carried
    forward), and the gold steps with a wrong answer line; all in one random style.

    Why: on the generators' own samples, wrong steps come mostly from hard problems, so a PRM
    can score well by recognising hard problems. Here the right and the wrong step share the
    problem, the position and the operands, and only checking ``a op b = c`` tells them apart.
    """
    gold = [parse_step(st) for st in problem["steps"]]
    style = WORKED_STYLES[rng.choice(STYLES)]

    def render(steps: Sequence[tuple[int, str, int, int]], answer: int | str) -> str:
        lines = [f"{style[0 if i == 0 else 1].format(i=i + 1)}{a}{op}{b}={c}"
                 for i, (a, op, b, c) in enumerate(steps)]
        return "\n".join([*lines, ANSWER_LINE.format(answer=answer)])

    out = [render(gold, problem["answer"])]  # type: ignore[arg-type]
    slipped = _slip(gold, rng.randrange(len(gold)), rng)  # type: ignore[arg-type]
    if slipped is not None:
        out.append(render(slipped, slipped[-1][3]))
    wrong = int(problem["answer"]) + rng.choice((-10, -2, -1, 1, 2, 10))
    if wrong > 0:
        out.append(render(gold, wrong))  # type: ignore[arg-type]
    return out


def _length_buckets(seqs: list[tuple[list[int], list[int]]], batch: int, window: int,
                    seed: int) -> list[list[tuple[list[int], list[int]]]]:
    """Batches of similar length: each window of ``window`` batches sorted by length, then the
    batches shuffled (fixed seed). Short and long problems otherwise share a batch, and
    padding costs ~half of the compute."""
    rng = random.Random(f"tts-eval-toy:prm-buckets:{seed}")
    batches = []
    for w in range(0, len(seqs), batch * window):
        part = sorted(seqs[w : w + batch * window], key=lambda e: len(e[0]))
        chunk = [part[i : i + batch] for i in range(0, len(part), batch)]
        rng.shuffle(chunk)
        batches += chunk
    return batches


def train_prm(seed: int, out_dir: Path, tokenizer: Any, sample_files: Sequence[Path],
              threads: int | None = None) -> dict:
    """Fine-tune the PRM from the ``PRM_INIT`` generator on exact step labels; save for vLLM."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen2ForCausalLM

    g = GENERATORS[PRM_INIT]  # same shape as the generator it starts from
    spec = replace(PRM_SPEC, hidden=g.hidden, heads=g.heads, layers=g.layers)
    threads = threads or spec.threads
    _seed_all(seed, threads)
    recs = prm_examples(seed, sample_files, contrast_per_level=PRM_CONTRAST_PER_LEVEL)
    need = spec.steps * PRM_BATCH
    if len(recs) < need:  # cycle in a fixed order if there is less data than steps x batch
        recs = (recs * (need // len(recs) + 1))[:need]
    recs = recs[:need]
    data_hash = _sha256([r["text"] + json.dumps(r["labels"]) for r in recs])
    tag_id = tokenizer.convert_tokens_to_ids(STEP_TAG)
    config = qwen2_config(spec, tokenizer, num_labels=2)
    config.architectures = ["Qwen2ForProcessRewardModel"]
    model = _PRM.build(config)
    init_dir = out_dir / PRM_INIT
    base = Qwen2ForCausalLM.from_pretrained(str(init_dir), dtype=torch.float32)
    model.model.load_state_dict(base.model.state_dict())
    del base
    model.train()
    opt = _optimizer(model, spec.lr, spec.weight_decay)
    n_pos = sum(sum(r["labels"]) for r in recs)
    n_all = sum(len(r["labels"]) for r in recs)
    losses: list[float] = []
    t0 = time.time()
    encoded = []
    for r in recs:
        ids = tokenizer(r["text"], add_special_tokens=False)["input_ids"]
        it = iter(r["labels"])
        encoded.append((ids, [int(next(it)) if t == tag_id else -100 for t in ids]))
    batches = _length_buckets(encoded, PRM_BATCH, PRM_BUCKET, seed)
    for step, batch in enumerate(batches):
        seqs = [e[0] for e in batch]
        labs = [e[1] for e in batch]
        ids, lab, mask = _pad(seqs, labs, tokenizer.pad_token_id)
        logits = model(ids, mask)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 2), lab.reshape(-1),
                                                 ignore_index=-100)
        _update(model, opt, loss, step, spec, losses, "prm", t0)
    train_seconds = time.time() - t0
    path = out_dir / "prm"
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / "model.safetensors"), metadata={"format": "pt"})
    config.dtype = "bfloat16"
    config.step_tag = STEP_TAG
    config.step_tag_id = tag_id
    config.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "model": "prm",
        "kind": "process reward model",
        "architecture": "Qwen2ForProcessRewardModel",
        "seed": seed,
        "spec": asdict(spec),
        "init_from": PRM_INIT,
        "parameters": n_params,
        "parameters_non_embedding": n_params - model.model.embed_tokens.weight.numel(),
        "data": {
            "sha256": data_hash,
            "records": len(recs),
            "step_labels": n_all,
            "step_labels_correct_frac": round(n_pos / max(1, n_all), 4),
            "sources": [Path(f).name for f in sample_files] + [
                "gold", "noisy p=0.35",
                f"contrast sets of {PRM_CONTRAST_PER_LEVEL} train-prm problems per level "
                "(gold, one result slip, wrong answer line)"],
            "length_buckets": f"batches of {PRM_BATCH} sorted by length in windows of "
                              f"{PRM_BUCKET}",
        },
        "steps": spec.steps,
        "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4),
        "train_seconds": round(train_seconds, 1),
        "torch_threads": threads,
        "step_tag": STEP_TAG,
        "step_tag_id": tag_id,
        "input_format": "Problem: {problem}\\nSolution:\\n" + "{step}" + STEP_TAG + "\\n per step",
        "labels": "index 0 = step wrong, index 1 = step right (softmax)",
        "dtype_saved": "bfloat16",
    }


def train_thinker(seed: int, out_dir: Path, threads: int | None = None) -> dict:
    """Train the toy reasoning model on thinking traces, with its own tokenizer (the
    thinker's words and ``<think>``/``</think>``) and a chat template that shows them."""
    from .thinker import (
        ANSWER_CUE,
        MAX_CHECKS,
        P_CHECK,
        P_CUT,
        P_RECHECK,
        P_RESUME,
        P_REVISION,
        P_SLIP,
        P_STOP,
        REVISION_PROMPT,
        THINK_END,
        THINK_START,
        WORDS,
    )
    from .tokenizer import build_tokenizer

    tokenizer = build_tokenizer(WORDS, (THINK_START, THINK_END))
    tokenizer.chat_template = THINKER_CHAT_TEMPLATE
    info = train_generator("thinker", THINKER, seed, out_dir, tokenizer, threads)
    info["kind"] = "reasoning generator"
    info["data"] = {
        **{k: v for k, v in info["data"].items() if k not in ("direct_answers",
                                                              "worked_styles")},
        "targets": "thinking traces (tts_eval.toy.thinker): "
                   f"{THINK_START} steps {THINK_END}{ANSWER_CUE} \\boxed{{answer}}",
        "p_slip_first_pass": P_SLIP, "p_error_per_step": 0.0,
        "p_stop_early": P_STOP, "p_resume_after_wait": P_RESUME,
        "p_check": P_CHECK, "p_recheck": P_RECHECK,
        "max_checks": MAX_CHECKS, "p_cut": P_CUT, "p_revision": P_REVISION,
        "revision_prompt": REVISION_PROMPT,
        "after Wait and in revisions": "exact steps, derived again from the first",
    }
    info["think"] = {"start": THINK_START, "end": THINK_END, "answer_cue": ANSWER_CUE}
    return info


def _run_eval(args: list[str]) -> dict:
    """Run ``tts_eval.toy.evaluate`` in a subprocess (vLLM spawns workers; keep them apart)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, "-m", "tts_eval.toy.evaluate", *args, "--json-out", out]
    print("+", " ".join(cmd), flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    res = json.loads(Path(out).read_text())
    os.unlink(out)
    res["eval_seconds"] = round(time.time() - t0, 1)
    return res


def _write_info(path: Path, info: dict) -> None:
    (path / "TRAINING.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tts_eval.toy.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="e.g. tts_eval/toy/models")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="+", choices=[*GENERATORS, "prm", "thinker"],
                    help="train only these models (the PRM needs the generators in --out)")
    ap.add_argument("--work", type=Path, help="scratch dir for samples (default: a temp dir)")
    ap.add_argument("--eval-per-level", type=int, default=100)
    ap.add_argument("--threads", type=int,
                    help="torch threads for every model (default: each model's own, as its "
                         "TRAINING.json records; the same seed and count give the same weights)")
    ap.add_argument("--no-eval", action="store_true", help="skip the vLLM measurements")
    args = ap.parse_args(argv)
    if args.seed == EVAL_SEED:
        raise SystemExit("--seed must differ from the eval split's seed")
    from .tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    work = args.work or Path(tempfile.mkdtemp(prefix="tts-eval-toy-"))
    work.mkdir(parents=True, exist_ok=True)
    chosen = args.only or [*GENERATORS, "prm", "thinker"]
    t_all = time.time()
    for name in [n for n in GENERATORS if n in chosen]:
        info = train_generator(name, GENERATORS[name], args.seed, args.out, tokenizer,
                               args.threads)
        path = args.out / name
        _write_info(path, info)
        if not args.no_eval:
            info["eval"] = _run_eval([
                "generate", "--model", str(path), "--per-level", str(args.eval_per_level),
                "--seed", str(args.seed), "--samples-out", str(work / f"{name}_eval.jsonl"),
                "--prm-data-out", str(work / f"{name}_prmtrain.jsonl"),
                "--prm-seed", str(args.seed)])
            _write_info(path, info)
        print(json.dumps({k: info[k] for k in ("model", "parameters", "final_loss",
                                               "train_seconds")}), flush=True)
    if "prm" in chosen:
        files = []
        for name in GENERATORS:
            f = work / f"{name}_prmtrain.jsonl"
            if not f.exists():
                if not (args.out / name / "config.json").exists():
                    continue
                _run_eval(["generate", "--model", str(args.out / name), "--per-level",
                           str(args.eval_per_level), "--seed", str(args.seed),
                           "--samples-out", str(work / f"{name}_eval.jsonl"),
                           "--prm-data-out", str(f), "--prm-seed", str(args.seed)])
            files.append(f)
        if not files:
            raise SystemExit("the PRM needs at least one trained generator in --out")
        info = train_prm(args.seed, args.out, tokenizer, files, args.threads)
        _write_info(args.out / "prm", info)
        if not args.no_eval:
            evals = [str(work / f"{n}_eval.jsonl") for n in GENERATORS
                     if (work / f"{n}_eval.jsonl").exists()]
            info["eval"] = _run_eval(["prm", "--model", str(args.out / "prm"), "--samples",
                                      *evals, "--seed", str(args.seed)])
            _write_info(args.out / "prm", info)
    if "thinker" in chosen:
        info = train_thinker(args.seed, args.out, args.threads)
        _write_info(args.out / "thinker", info)
        if not args.no_eval:  # what budget forcing and revisions buy on it
            info["eval"] = _run_eval(["think", "--model", str(args.out / "thinker"),
                                      "--seed", str(args.seed)])
            _write_info(args.out / "thinker", info)
    print(f"done in {time.time() - t_all:.0f}s; work dir {work}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
