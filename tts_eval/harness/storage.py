"""Where a run's store lives and how the engine and verifier are put behind it.

The default follows lm-eval's own ``--output_path``: a user who names where results go
gets a store beside them (``tts-store/`` in that folder) and can resume by running the same
command again; the Python API and runs without an output path store nothing unless asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tts_eval.engines import Engine, Scorer
from tts_eval.engines.stored import StoredEngine, StoredScorer
from tts_eval.store import RunStore, model_fingerprint

log = logging.getLogger(__name__)

STORE_FOLDER = "tts-store"
OFF = ("off", "none", "false", "no", "0", "")
_OUTPUT_FLAGS = ("--output_path", "-o")


def store_directory(setting: str | None, argv: Sequence[str]) -> Path | None:
    """The store the ``store=`` model_arg asks for (``None``: the default, from the lm_eval
    command line in ``argv``); ``None`` when there is none."""
    if setting is not None:
        return None if setting.strip().lower() in OFF else Path(setting)
    output = _lm_eval_output_path(argv)
    if output is None:
        return None
    out = Path(output)
    return (out.parent if out.suffix == ".json" else out) / STORE_FOLDER


def _lm_eval_output_path(argv: Sequence[str]) -> str | None:
    """``--output_path`` of an ``lm_eval`` (or ``python -m lm_eval``) command line."""
    if not argv or not ({"lm_eval", "lm-eval"} & {Path(argv[0]).name, *Path(argv[0]).parts}):
        return None
    for i, arg in enumerate(argv):
        for flag in _OUTPUT_FLAGS:
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return None


class RunStorage:
    """One run's store: the engine and the verifier's scorer behind it, and the run's row."""

    def __init__(self, directory: Path) -> None:
        self.store = RunStore(directory)
        self.engines: list[StoredEngine] = []

    def engine(self, engine: Engine, pretrained: str, settings: dict[str, Any]) -> StoredEngine:
        fingerprint = self._register(pretrained, settings)
        stored = StoredEngine(engine, self.store, fingerprint)
        self.engines.append(stored)
        return stored

    def scorer_factory(self, factory: Callable[..., Scorer]) -> Callable[..., Scorer]:
        """``factory`` (a verifier's scorer class) whose scorers read through the store."""
        def build(model: str, **kwargs: Any) -> Scorer:
            fingerprint = self._register(model, kwargs)
            return StoredScorer(factory(model, **kwargs), self.store, fingerprint)
        return build

    def _register(self, name: str, settings: dict[str, Any]) -> str:
        fingerprint, weights, described = model_fingerprint(name, settings)
        self.store.register_model(name, fingerprint, weights, described)
        return fingerprint

    def begin(self, pretrained: str, label: str, args: dict[str, Any]) -> None:
        fingerprint = self.engines[0].fingerprint if self.engines else ""
        self.store.begin_run(pretrained, fingerprint, label, args)

    def finish(self) -> None:
        self.store.finish_run()
        reused = sum(e.reused for e in self.engines)
        generated = sum(e.generated for e in self.engines)
        log.warning("tts-eval: run store %s: %d requests reused, %d generated and stored",
                    self.store.directory, reused, generated)
