"""What ``tts-eval`` commands show: their own progress and results, not the INFO logs and
progress bars of the libraries under them (vLLM's engine start-up alone prints dozens of
lines). ``--verbose`` brings those back; ``lm_eval`` runs are not touched.
"""

from __future__ import annotations

import logging
import os
import warnings

LIBRARY_LOGGERS = ("vllm", "lm_eval", "lm-eval", "transformers", "datasets", "httpx")


def quiet_libraries(verbose: bool = False) -> None:
    """Libraries log errors only and draw no progress bars (call before vLLM is imported:
    it reads its level from ``VLLM_LOGGING_LEVEL`` once, and its engine processes inherit
    it). Their warnings are start-up chatter here (a missing optional kernel, a task
    metadata hint); what goes wrong in a run reaches the user as an error."""
    if verbose:
        return
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
    # vLLM's engine runs in processes of its own: they inherit the environment only
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning,ignore::DeprecationWarning")
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
