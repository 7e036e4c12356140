"""Where the lm-eval task YAMLs live, in a wheel and in a source checkout.

The wheel ships the top-level ``tasks/`` folder as ``tts_eval/_tasks``; an editable
install or a plain checkout reads ``tasks/`` next to the package.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # tts_eval/
_INSTALLED = _PACKAGE_DIR / "_tasks"
TASKS_DIR: Path = _INSTALLED if _INSTALLED.is_dir() else _PACKAGE_DIR.parent / "tasks"
