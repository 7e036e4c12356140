"""The run store: what a run generated, kept as it is generated, so runs resume."""

from tts_eval.store.fingerprint import model_fingerprint
from tts_eval.store.run_store import Entry, RunStore, StoreError

__all__ = ["Entry", "RunStore", "StoreError", "model_fingerprint"]
