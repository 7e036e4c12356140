"""Measure the toy models with real vLLM: pass@1 / maj@16 per level, PRM AUROC and search gains.

Why vLLM and not transformers: the numbers in each model's TRAINING.json must be the ones a user
of the harness will see, and the harness runs on vLLM. Each command runs one engine and prints a
JSON summary; ``train.py`` runs it in a subprocess so that vLLM's worker processes and threads
never share a process with training.

    python -m tts_eval.toy.evaluate generate --model DIR [--samples-out F] [--prm-data-out F]
    python -m tts_eval.toy.evaluate prm --model PRM_DIR --samples F [F ...]
    python -m tts_eval.toy.evaluate think --model THINKER_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tts_eval.engines import SamplingSpec
from tts_eval.grading import cluster_many, extract_answer, same_as_gold
from tts_eval.metrics import auroc
from tts_eval.strategies.voting import (
    best_of_n_choice,
    majority_choice,
    weighted_majority_choice,
)
from tts_eval.verifiers import TOY_PRM_FORMAT, ProcessRewardVerifier

from .problems import (
    EVAL_SEED,
    check_steps,
    format_prompt,
    make_problems,
)

DEFAULT_TEMPERATURE = 0.8
DEFAULT_N = 16
MAX_TOKENS = 160  # a level-5 gold solution is ~70 tokens
ANSWER_KIND = "math"  # how the arith_tts task grades the toy's answers: the same here
# How the toy models are meant to be run on CPU: eager mode starts the engine in ~30 s.
ENGINE_ARGS: dict[str, Any] = {"enforce_eager": True, "max_model_len": 512}


def make_engine(model: str | Path, *, seed: int = 0):
    """A generation engine for a toy model (vLLM, started on first use)."""
    from tts_eval.engines.vllm_engine import VLLMEngine

    return VLLMEngine(str(model), seed=seed, **ENGINE_ARGS)


def make_scorer(model: str | Path, *, seed: int = 0):
    """The toy PRM on vLLM's pooling runner (started on first use)."""
    from tts_eval.engines.vllm_scorer import VLLMScorer

    return VLLMScorer(str(model), seed=seed, **ENGINE_ARGS)


def sample_solutions(
    engine: Any,
    problems: Sequence[dict],
    *,
    n: int,
    temperature: float,
    seed: int,
    max_tokens: int = MAX_TOKENS,
) -> list[list[str]]:
    """``n`` sampled solutions per problem, one seed per request so that runs reproduce."""
    specs = [SamplingSpec(n=n, temperature=temperature, seed=seed * 1_000_003 + i,
                          max_tokens=max_tokens) for i in range(len(problems))]
    generations = engine.generate([format_prompt(p) for p in problems], specs)
    return [[c.text for c in g.completions] for g in generations]


def grade_solutions(
    problems: Sequence[dict], samples: Sequence[Sequence[str]]
) -> tuple[list[list[str | None]], list[list[bool]], list[list[int]]]:
    """Per problem: each solution's answer, whether it is right and its answer cluster,
    read and compared exactly as the harness grades arith_tts."""
    answers = [[extract_answer(s, ANSWER_KIND) for s in sols] for sols in samples]
    correct = [same_as_gold(a, str(p["answer"]), ANSWER_KIND)
               for a, p in zip(answers, problems, strict=True)]
    return answers, correct, cluster_many(answers, ANSWER_KIND)


def _chosen_is_right(chosen: int | None, correct: Sequence[bool]) -> float:
    return float(chosen is not None and correct[chosen])


def generation_metrics(problems: Sequence[dict], samples: Sequence[Sequence[str]],
                       greedy: Sequence[str]) -> dict:
    """greedy accuracy, pass@1 (mean over samples), maj@n and pass@n, per level and overall."""
    per: dict[str, dict[str, float]] = {}
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    _, correct, clusters = grade_solutions(problems, samples)
    _, greedy_correct, _ = grade_solutions(problems, [[g] for g in greedy])
    for p, ok, ids, first in zip(problems, correct, clusters, greedy_correct, strict=True):
        row = (float(first[0]), sum(ok) / len(ok),
               _chosen_is_right(majority_choice(ids), ok), float(any(ok)))
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


def prm_step_scores(
    scorer: Any, problems: Sequence[dict], solutions: Sequence[str]
) -> list[list[float]]:
    """P(step is correct) for every step line of each solution, from the toy PRM."""
    verifier = ProcessRewardVerifier(scorer, TOY_PRM_FORMAT)
    scored = verifier.score([format_prompt(p) for p in problems], list(solutions))
    return [s.scores for s in scored]


def _cmd_generate(args: argparse.Namespace) -> dict:
    engine = make_engine(args.model, seed=args.seed)
    problems = [p for lv in args.levels for p in make_problems(args.per_level, lv, EVAL_SEED)]
    samples = sample_solutions(engine, problems, n=args.n, temperature=args.temperature,
                               seed=args.seed)
    greedy = [s[0] for s in sample_solutions(engine, problems, n=1, temperature=0.0,
                                             seed=args.seed)]
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
        sols = sample_solutions(engine, train, n=args.prm_n, temperature=1.0,
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
    Best-of-n and weighted majority choose through the strategies' own choice functions.

    ``step_auroc`` pools the steps of all problems, so a PRM scores well on it by knowing which
    problems are hard. ``step_auroc_within_problem`` only compares steps of the same problem:
    over every pair of one right and one wrong step among that problem's sampled solutions,
    pooled over problems (equivalently, per-problem AUROC averaged with weights = pairs), the
    share in which the right step scores higher (ties count half). This is what search and
    reranking among one problem's samples need.
    """
    step_s: list[float] = []
    step_y: list[bool] = []
    within_wins = 0.0
    within_pairs = 0
    sol_last: list[float] = []
    sol_min: list[float] = []
    sol_y: list[bool] = []
    best_ok: list[float] = []
    wmaj_ok: list[float] = []
    maj_ok: list[float] = []
    p1: list[float] = []
    _, correct, clusters = grade_solutions(problems, samples)
    k = 0
    for p, sols, ok, ids in zip(problems, samples, correct, clusters, strict=True):
        lasts = []
        prob_s: list[float] = []
        prob_y: list[bool] = []
        for s, right in zip(sols, ok, strict=True):
            sc = scores[k]
            k += 1
            labels = check_steps(p, s)
            n = min(len(sc), len(labels))
            prob_s += sc[:n]
            prob_y += labels[:n]
            last = sc[-1] if sc else 0.0
            lasts.append(last)
            sol_last.append(last)
            sol_min.append(min(sc) if sc else 0.0)
            sol_y.append(right)
        step_s += prob_s
        step_y += prob_y
        within = auroc(prob_s, prob_y)
        if within is not None:
            pairs = sum(prob_y) * (len(prob_y) - sum(prob_y))
            within_wins += within * pairs
            within_pairs += pairs
        p1.append(sum(ok) / len(ok))
        maj_ok.append(_chosen_is_right(majority_choice(ids), ok))
        best_ok.append(_chosen_is_right(best_of_n_choice(lasts), ok))
        wmaj_ok.append(_chosen_is_right(weighted_majority_choice(ids, lasts), ok))

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / len(xs), 4) if xs else float("nan")

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 4)

    return {
        "step_auroc": r(auroc(step_s, step_y)),
        "step_auroc_within_problem": r(within_wins / within_pairs) if within_pairs else None,
        "step_pairs_within_problem": within_pairs,
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
    scorer = make_scorer(args.model, seed=args.seed)
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
        scores = prm_step_scores(scorer, flat_p, flat_s)
        result[Path(path).stem] = prm_metrics(problems, samples, scores)
    return result


def _cmd_think(args: argparse.Namespace) -> dict:
    from .sequential import thinker_metrics

    return thinker_metrics(make_engine(args.model, seed=args.seed), args.per_level)


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
    t = sub.add_parser("think", help="budget forcing, num_ignore and revisions of the thinker")
    t.add_argument("--model", required=True)
    t.add_argument("--per-level", type=int, default=20)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--json-out")
    args = ap.parse_args(argv)
    commands = {"generate": _cmd_generate, "prm": _cmd_prm, "think": _cmd_think}
    result = commands[args.cmd](args)
    text = json.dumps(result, indent=2)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
