"""A CPU-scale toy world in which test-time scaling is real.

Three tiny Qwen2 generators (``small``, ``medium``, ``large``; ~4x parameters per step) and a
tiny Qwen2 process reward model (``prm``), trained here on synthetic multi-step arithmetic word
problems (:mod:`tts_eval.toy.problems`). Sampling them more, majority voting and PRM search
measurably raise accuracy, so users, CI and tests get an evaluation that runs anywhere in minutes.
The weights ship inside the package (``tts_eval/toy/models/<name>/``) and load natively in vLLM
(``LLM(model=str(model_path("small")))``; the PRM with ``runner="pooling"``).

Kept import-light on purpose (no torch, no vLLM): a .pth hook imports ``tts_eval`` at every start.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MODEL_NAMES", "MODELS_DIR", "model_path"]

#: Names of the shipped toy models, smallest generator first, then the PRM.
MODEL_NAMES: tuple[str, ...] = ("small", "medium", "large", "prm", "thinker")

#: Where ``python -m tts_eval.toy.train --out tts_eval/toy/models`` writes the weights.
MODELS_DIR = Path(__file__).resolve().parent / "models"


def model_path(name: str) -> Path:
    """Directory of the installed toy model ``name`` (``small``, ``medium``, ``large``, ``prm``,
    ``thinker``: the reasoning model).

    Raises ValueError for an unknown name and FileNotFoundError when the weights are missing
    (e.g. a source checkout without them), saying how to rebuild them.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown toy model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    path = MODELS_DIR / name
    missing = [f for f in ("config.json", "model.safetensors", "tokenizer.json")
               if not (path / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"toy model {name!r} is not installed at {path} (missing {', '.join(missing)}); "
            f"build it with: python -m tts_eval.toy.train --out {MODELS_DIR}"
        )
    return path
