"""Make ``tts-vllm`` and the tts tasks visible to the stock lm-eval CLI.

lm-eval 0.4.13 has no plugin entry points: it only knows the models in its own
``MODEL_MAPPING`` and the task YAMLs under its own ``tasks/`` folder. A one-line
``.pth`` file shipped in the wheel imports this module at interpreter start. It
adds a meta-path finder that does nothing until lm-eval itself is imported; then,
right after ``lm_eval.models`` and ``lm_eval.tasks.manager`` finish loading, it
registers our model lazily (a "module:Class" placeholder, so vLLM is imported only
when the model is built) and adds our task folder to every ``TaskManager`` that indexes
lm-eval's own tasks (``include_defaults=True``, the default): a manager built with
``include_defaults=False`` sees only the paths it was given, as lm-eval promises.

``TTS_EVAL_LM_EVAL_HOOK=0`` turns the hook off (then use ``--include_path`` and
``--model`` with lm-eval's own means). Nothing here may raise: a broken hook must never
break lm-eval for other users.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys

TYPE_CHECKING = False  # typing itself costs ~10 ms at every start

if TYPE_CHECKING:  # this module runs at every interpreter start: import nothing extra
    from collections.abc import Callable
    from types import ModuleType

OFF_SWITCH = "TTS_EVAL_LM_EVAL_HOOK"  # "0" (or "false", "off", "no") turns the hook off
MODEL_NAME = "tts-vllm"
MODEL_TARGET = "tts_eval.harness.model:TTSVLLM"


def _warn(what: str, exc: BaseException) -> None:
    print(f"tts-eval: could not {what} ({exc!r}); use --include_path/--model explicitly",
          file=sys.stderr)


def register_model(_module: ModuleType | None = None) -> None:
    """Add tts-vllm to lm-eval's model registry as a lazy placeholder."""
    from lm_eval.api.registry import model_registry

    if MODEL_NAME not in model_registry:
        model_registry.register(MODEL_NAME, target=MODEL_TARGET)


def patch_task_manager(module: ModuleType) -> None:
    """Make every TaskManager that indexes lm-eval's tasks index ours too, before any user
    --include_path; ``tm.include_path`` stays what the caller gave."""
    import inspect

    from tts_eval.harness.task_paths import TASKS_DIR

    manager_cls = module.TaskManager
    original = manager_cls.__init__
    if getattr(original, "_tts_eval_patched", False):
        return
    signature = inspect.signature(original)

    def __init__(self, *args, **kwargs):  # noqa: N807 - replaces a dunder
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        if not bound.arguments.get("include_defaults", True):
            original(*bound.args, **bound.kwargs)
            return
        given = bound.arguments.get("include_path")
        paths = [] if given is None else list(given) if isinstance(given, list | tuple) else [given]
        if str(TASKS_DIR) not in {str(p) for p in paths}:
            # After lm-eval's own folder and before the user's: later paths override earlier.
            paths = [str(TASKS_DIR), *paths]
        bound.arguments["include_path"] = paths
        original(*bound.args, **bound.kwargs)
        self.include_path = given

    __init__._tts_eval_patched = True  # type: ignore[attr-defined]
    __init__.__doc__ = original.__doc__
    manager_cls.__init__ = __init__


_AFTER_IMPORT: dict[str, tuple[str, Callable[[ModuleType], None]]] = {  # noqa: F821
    "lm_eval.models": ("register the tts-vllm model", register_model),
    "lm_eval.tasks.manager": ("add the tts-eval tasks", patch_task_manager),
}


class _AfterImportFinder:
    """Finds nothing itself; wraps the real loader of the modules we watch."""

    @staticmethod
    def find_spec(fullname: str, path=None, target=None):
        if fullname not in _AFTER_IMPORT:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        what, callback = _AFTER_IMPORT[fullname]
        exec_module = spec.loader.exec_module

        def exec_then_hook(module: ModuleType) -> None:
            exec_module(module)
            try:
                callback(module)
            except Exception as exc:  # never break lm-eval
                _warn(what, exc)

        spec.loader.exec_module = exec_then_hook  # type: ignore[method-assign]
        return spec


def switched_off() -> bool:
    return os.environ.get(OFF_SWITCH, "").strip().lower() in ("0", "false", "off", "no")


def install() -> None:
    """Install the finder once; run the hooks now for modules already imported."""
    if switched_off():
        return
    if any(isinstance(f, _AfterImportFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _AfterImportFinder())
    for name, (what, callback) in _AFTER_IMPORT.items():
        if name in sys.modules:
            try:
                callback(sys.modules[name])
            except Exception as exc:
                _warn(what, exc)


install()
