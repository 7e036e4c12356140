"""Step-by-step search over a tree of partial solutions, steered by a verifier.

beam_search, dvts and rebase differ only in which open nodes they go on from and how many
children each gets (``TreeSearch.plan``); the rest is here, shared:

- a step is one engine call for every problem of the run: a node's ``k`` children are one
  request with ``n=k`` (they share its prefix), sampled until the step delimiter; the path
  goes on from token ids, never from re-tokenised text, and its text is decoded from them;
- every new node is read by the verifier in one call for the whole run (after optional
  greedy lookahead steps that only its score sees); a node that adds no text keeps its
  parent's scores without a second reading;
- with a budget, a step starts only if its worst case fits (trimmed, best nodes first),
  and a node is read only if its exact reading fits; the search of a problem that can
  afford nothing more stops, and answers from what it has;
- the last allowed step (``max_steps``) runs to the end of the solution, so every path
  finishes; the tree, with every node's text, parent, scores, tokens and FLOPs, is kept
  in the record and the chosen leaf is marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from tts_eval.accounting import Budget, BudgetError, Cost
from tts_eval.engines import Completion, SamplingSpec
from tts_eval.records import NodeRecord, SampleRecord, TTSRecord
from tts_eval.strategies.base import (
    Context,
    Problem,
    SampleAnswers,
    Strategy,
    derive_seed,
    model_record,
    read_within_budget,
    sample_answers,
    worst_reading,
)
from tts_eval.strategies.sampling import cluster_by_kind
from tts_eval.strategies.voting import NO_SCORE, best_of_n_choice, weighted_majority_choice
from tts_eval.verifiers import AGGREGATES, aggregate

SELECTIONS = ("weighted_majority", "best")
DEFAULT_SEARCH_N = 16
DEFAULT_MAX_STEPS = 40  # search-and-learn's num_iterations


@dataclass(eq=False)
class Node:
    """A step of one problem's search and the path that leads to it."""

    id: int
    parent: Node | None
    group: int  # dvts: the subtree it grows in; 0 elsewhere
    step_ids: tuple[int, ...]
    path_ids: tuple[int, ...]  # every generated token from the prompt to here
    text: str
    solution: str  # the path's text, decoded from path_ids
    finish_reason: str | None  # None: ended at the delimiter, the path goes on
    flops: float = 0.0
    lookahead_ids: tuple[int, ...] = ()
    lookahead_ended: bool = False  # the lookahead reached the end of the solution
    step_scores: list[float] | None = None
    score: float | None = None
    verifier_tokens: int = 0
    kept: bool = False

    @property
    def depth(self) -> int:
        return 1 if self.parent is None else self.parent.depth + 1

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    @property
    def rank(self) -> float:
        return NO_SCORE if self.score is None else self.score


@dataclass
class Search:
    """One problem's search: its prompt, every node so far, what is set aside as final."""

    index: int
    problem: Problem
    prompt_ids: list[int]
    nodes: list[Node] = field(default_factory=list)
    final: list[Node] = field(default_factory=list)  # finished leaves set aside as answers
    plan: list[tuple[Node | None, int, int]] = field(default_factory=list)  # (node, k, group)
    stopped: str | None = None  # why the search ended early ("budget")
    not_afforded: int = 0  # children planned that the budget could not pay for
    width: int = 0  # rebase: the width not yet consumed by finished nodes

    def child_id(self) -> int:
        return len(self.nodes)


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` into whole numbers that sum to it;
    remainders go to the largest fractions, ties to the first."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights)
    shares = ([total * w / whole for w in weights] if whole > 0
              else [total / len(weights)] * len(weights))
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class TreeSearch(Strategy):
    """Base of the verifier-guided tree searches. Subclasses implement ``plan``."""

    uses_verifier = True
    extra_args: ClassVar[tuple[str, ...]] = (
        "aggregate", "beam_width", "lookahead", "max_steps", "step_delimiter", "select")

    def __init__(
        self,
        n: int | None = None,
        budget: Budget | None = None,
        *,
        beam_width: int = 4,
        lookahead: int = 0,
        max_steps: int = DEFAULT_MAX_STEPS,
        step_delimiter: str | None = None,
        select: str = "weighted_majority",
        aggregate: str = "last",
    ) -> None:
        super().__init__(DEFAULT_SEARCH_N if n is None else n, budget)
        problems = []
        if beam_width < 1:
            problems.append(f"beam_width must be >= 1, got {beam_width}")
        elif self.needs_groups and (self.n % beam_width or self.n < beam_width):
            problems.append(f"n={self.n} must be a multiple of beam_width={beam_width} "
                            f"(n / beam_width beams or subtrees)")
        if lookahead < 0:
            problems.append(f"lookahead must be >= 0, got {lookahead}")
        if max_steps < 1:
            problems.append(f"max_steps must be >= 1, got {max_steps}")
        if select not in SELECTIONS:
            problems.append(f"select={select!r}; valid: {', '.join(SELECTIONS)}")
        if aggregate not in AGGREGATES:
            problems.append(f"unknown aggregate {aggregate!r}; valid: {', '.join(AGGREGATES)}")
        if step_delimiter == "":
            problems.append("step_delimiter must not be empty")
        if problems:
            raise ValueError(f"strategy {self.name!r}: " + "; ".join(problems))
        self.beam_width = beam_width
        self.lookahead = lookahead
        self.max_steps = max_steps
        self.step_delimiter = step_delimiter
        self.select = select
        self.aggregate = aggregate

    needs_groups: ClassVar[bool] = True  # n must split into n / beam_width groups

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "beam_width": self.beam_width, "lookahead": self.lookahead,
                "max_steps": self.max_steps, "step_delimiter": self.step_delimiter,
                "select": self.select, "aggregate": self.aggregate}

    # What a subclass decides -----------------------------------------------------------

    def start(self, search: Search) -> None:
        """The first step: the prompt gets ``n`` children, one request sharing its prefix."""
        search.plan = [(None, self.n, 0)]

    def plan(self, search: Search, children: list[Node]) -> None:
        """From the newly read ``children``: set finished answers aside (``search.final``,
        marking them kept) and set ``search.plan`` to the next expansions, best first."""
        raise NotImplementedError

    # The loop --------------------------------------------------------------------------

    def run(self, problems: Sequence[Problem], ctx: Context) -> list[TTSRecord]:
        delimiter = self.step_delimiter or ctx.verifier.step_delimiter
        searches = self._start(problems, ctx)
        for depth in range(1, self.max_steps + 1):
            live = [s for s in searches if s.plan and s.stopped is None]
            self._fit_budget(live, ctx)
            live = [s for s in live if s.plan]
            if not live:
                break
            children = self._expand(live, ctx, delimiter, last=depth == self.max_steps)
            self._look_ahead(live, children, ctx, delimiter)
            self._read(live, children, ctx)
            for search in live:
                self.plan(search, children[search.index])
        return [self._record(search, ctx, delimiter) for search in searches]

    def _start(self, problems: Sequence[Problem], ctx: Context) -> list[Search]:
        searches = []
        for i, problem in enumerate(problems):
            ids = ctx.engine.token_ids(problem.prompt, problem.sampling.add_special_tokens)
            search = Search(i, problem, list(ids), width=self.n)
            self.start(search)
            searches.append(search)
        pricer = ctx.meter.pricer
        for search in searches:
            fixed = pricer.prefill(len(search.prompt_ids))
            worst = self._worst_child(search, None, ctx)
            if ctx.meter.afford(search.index, worst, fixed=fixed) < 1:
                need = fixed + worst
                raise BudgetError(
                    f"budget {self.budget.to_dict()} cannot buy one first step for problem "
                    f"{search.index}: it needs up to {need.total_tokens} tokens / "
                    f"{need.total_flops:.3e} FLOPs (prompt of {len(search.prompt_ids)} "
                    f"tokens, a step of up to max_gen_toks={search.problem.sampling.max_tokens}"
                    " and its verifier reading). Raise budget_tokens/budget_flops or lower "
                    "max_gen_toks. Nothing was generated.")
            ctx.meter.charge_prefill(search.index, len(search.prompt_ids))
        return searches

    def _remaining(self, search: Search, node: Node | None) -> int:
        used = 0 if node is None else len(node.path_ids)
        return search.problem.sampling.max_tokens - used

    def _worst_child(self, search: Search, node: Node | None, ctx: Context) -> Cost:
        """A child's worst case: a step (and lookahead) to the end of the token budget, and
        the verifier reading its whole path (estimated: one verifier token per generated
        token; the exact count is checked before reading)."""
        pricer = ctx.meter.pricer
        context = len(search.prompt_ids) + (0 if node is None else len(node.path_ids))
        remaining = self._remaining(search, node)
        cost = pricer.sample(context, remaining)
        if ctx.meter.budget.is_set:
            solution = "" if node is None else node.solution
            cost = cost + worst_reading(ctx, search.problem.prompt, solution, remaining)
        return cost

    def _fit_budget(self, searches: list[Search], ctx: Context) -> None:
        """Trim each plan to what the budget can pay for in the worst case, best first."""
        if not ctx.meter.budget.is_set:
            return
        for search in searches:
            planned, fixed = [], Cost()
            for position, (node, k, group) in enumerate(search.plan):
                worst = self._worst_child(search, node, ctx)
                fits = min(k, ctx.meter.afford(search.index, worst, fixed=fixed))
                if fits >= 1:
                    planned.append((node, fits, group))
                    fixed = fixed + worst.times(fits)
                if fits < k:
                    later = sum(count for _, count, _ in search.plan[position + 1:])
                    search.not_afforded += k - fits + later
                    break
            if not planned:
                search.stopped = "budget"
            search.plan = planned

    def _spec(self, search: Search, node: Node | None, k: int, delimiter: str | None,
              temperature: float | None = None) -> SamplingSpec:
        spec = search.problem.sampling
        label = f"step:{'root' if node is None else node.id}"
        extra = dict(spec.extra)
        extra["include_stop_str_in_output"] = True
        stop = spec.stop + ((delimiter,) if delimiter else ())
        return replace(
            spec, n=k, stop=stop, max_tokens=self._remaining(search, node),
            seed=spec.seed if node is None else derive_seed(spec.seed, label),
            temperature=spec.temperature if temperature is None else temperature,
            extra=tuple(sorted(extra.items())),
        )

    def _prompt(self, search: Search, path_ids: Sequence[int]) -> list[int]:
        return search.prompt_ids + list(path_ids)

    def _expand(self, searches: list[Search], ctx: Context, delimiter: str,
                last: bool) -> dict[int, list[Node]]:
        """One engine call: every planned expansion of every problem."""
        prompts, specs, owners = [], [], []
        for search in searches:
            for node, k, group in search.plan:
                prompts.append(self._prompt(search, () if node is None else node.path_ids))
                specs.append(self._spec(search, node, k, None if last else delimiter))
                owners.append((search, node, group))
        generations = ctx.engine.generate(prompts, specs)
        children: dict[int, list[Node]] = {s.index: [] for s in searches}
        for (search, parent, group), generation in zip(owners, generations, strict=True):
            context = len(search.prompt_ids) + (0 if parent is None else len(parent.path_ids))
            for completion in generation.completions:
                cost = ctx.meter.charge_sample(search.index, context,
                                               completion.completion_tokens)
                child = self._child(search, parent, group, completion, ctx, delimiter)
                child.flops = cost.generator_flops
                search.nodes.append(child)
                children[search.index].append(child)
        for search in searches:
            search.plan = []
        return children

    def _child(self, search: Search, parent: Node | None, group: int, completion: Completion,
               ctx: Context, delimiter: str) -> Node:
        step = tuple(completion.token_ids)
        path = (() if parent is None else parent.path_ids) + step
        if completion.finish_reason == "stop" and completion.stop_reason == delimiter:
            finish = None
        else:
            finish = completion.finish_reason or "stop"
        if finish is None and len(path) >= search.problem.sampling.max_tokens:
            finish = "length"  # the delimiter came with the last token the path may have
        solution = ctx.engine.decode(path)
        if isinstance(completion.stop_reason, str) and completion.stop_reason != delimiter:
            solution = solution.removesuffix(completion.stop_reason)  # a task's stop string
        return Node(id=search.child_id(), parent=parent, group=group, step_ids=step,
                    path_ids=path, text=ctx.engine.decode(step), solution=solution,
                    finish_reason=finish)

    def _look_ahead(self, searches: list[Search], children: dict[int, list[Node]],
                    ctx: Context, delimiter: str) -> None:
        """Greedy steps past each open child, read only for its score (Snell et al.)."""
        by_index = {s.index: s for s in searches}
        for _ in range(self.lookahead):
            ahead = [(by_index[i], node) for i, nodes in children.items() for node in nodes
                     if not node.finished and self._ahead_open(by_index[i], node)]
            if not ahead:
                return
            prompts = [self._prompt(s, node.path_ids + node.lookahead_ids) for s, node in ahead]
            specs = [replace(self._spec(s, node, 1, delimiter, temperature=0.0),
                             max_tokens=self._remaining(s, node) - len(node.lookahead_ids))
                     for s, node in ahead]
            for (search, node), generation in zip(ahead, ctx.engine.generate(prompts, specs),
                                                  strict=True):
                (completion,) = generation.completions
                context = (len(search.prompt_ids) + len(node.path_ids)
                           + len(node.lookahead_ids))
                cost = ctx.meter.charge_sample(search.index, context,
                                               completion.completion_tokens)
                node.flops += cost.generator_flops
                node.lookahead_ids += tuple(completion.token_ids)
                node.lookahead_ended = not (completion.finish_reason == "stop"
                                            and completion.stop_reason == delimiter)

    def _ahead_open(self, search: Search, node: Node) -> bool:
        return (not node.lookahead_ended
                and self._remaining(search, node) > len(node.lookahead_ids))

    def _read(self, searches: list[Search], children: dict[int, list[Node]],
              ctx: Context) -> None:
        """One verifier call for every new node of every problem, within the budget."""
        prompts, texts, owners = [], [], []
        for search in searches:
            for node in children[search.index]:
                if node.parent is not None and not node.text.strip():
                    # nothing new to read: the parent's reading stands
                    node.step_scores, node.score = node.parent.step_scores, node.parent.score
                    continue
                text = (ctx.engine.decode(node.path_ids + node.lookahead_ids)
                        if node.lookahead_ids else node.solution)
                prompts.append(search.problem.prompt)
                texts.append(text)
                owners.append((search, node))
        readings = read_within_budget(ctx, [search.index for search, _ in owners], prompts,
                                      texts)
        for (_, node), steps in zip(owners, readings, strict=True):
            if steps is None:
                node.finish_reason = "budget"  # generated, but its reading did not fit
                continue
            node.verifier_tokens = steps.tokens
            node.step_scores = list(steps.scores)
            node.score = aggregate(steps.scores, self.aggregate)

    # The answer ------------------------------------------------------------------------

    def _candidates(self, search: Search) -> list[Node]:
        """The solutions to choose from: the finished answers set aside; when the search
        stopped before any, the deepest read paths it has."""
        if search.final:
            return search.final
        read = [node for node in search.nodes if node.score is not None]
        pool = read or search.nodes
        deepest = max(node.depth for node in pool)
        return [node for node in pool if node.depth == deepest]

    def _choose(self, clusters: list[int], scores: list[float]) -> int | None:
        if self.select == "best":
            return best_of_n_choice(scores)
        return weighted_majority_choice(clusters, scores)

    def _record(self, search: Search, ctx: Context, delimiter: str) -> TTSRecord:
        problem = search.problem
        leaves = self._candidates(search)
        answers: SampleAnswers = sample_answers(
            problem, [Completion(node.solution, len(node.path_ids), node.finish_reason,
                                 token_ids=node.path_ids) for node in leaves], ctx.engine)
        (clusters,) = cluster_by_kind([problem], [answers.answers])
        scores = [node.rank for node in leaves]
        chosen = self._choose(clusters, scores)
        if chosen is None:  # no answer among them: the best-read path speaks for the search
            chosen = best_of_n_choice(scores) or 0
        samples = [
            SampleRecord(
                text=node.solution, answer=answer, prompt_tokens=len(search.prompt_ids),
                completion_tokens=len(node.path_ids), finish_reason=node.finish_reason,
                score=node.score, step_scores=node.step_scores,
                flops=sum(n.flops for n in _path(node)), answer_rule=rule, node=node.id)
            for node, answer, rule in zip(leaves, answers.answers, answers.rules, strict=True)
        ]
        budget = None
        if self.budget.is_set:
            budget = {**self.budget.to_dict(), "stopped": search.stopped,
                      "children_not_afforded": search.not_afforded}
        return TTSRecord(
            strategy=self.name, params={**self.record_params(problem),
                                        "step_delimiter": delimiter},
            answer_kind=problem.answer_kind, seed=problem.sampling.seed, samples=samples,
            chosen_index=chosen, chosen_answer=answers.answers[chosen],
            prompt_tokens=len(search.prompt_ids), cached_prompt_tokens=0, clusters=clusters,
            cost=ctx.meter.spent[search.index], budget=budget,
            model=model_record(ctx.meter.pricer),
            tree=[_node_record(node) for node in search.nodes],
        )


def _path(node: Node) -> list[Node]:
    out = []
    while node is not None:
        out.append(node)
        node = node.parent
    return out[::-1]


def _node_record(node: Node) -> NodeRecord:
    return NodeRecord(
        id=node.id, parent=None if node.parent is None else node.parent.id, depth=node.depth,
        text=node.text, tokens=len(node.step_ids), flops=node.flops,
        finish_reason=node.finish_reason, step_scores=node.step_scores, score=node.score,
        lookahead_tokens=len(node.lookahead_ids),
        verifier_tokens=node.verifier_tokens, kept=node.kept,
    )
