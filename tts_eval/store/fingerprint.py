"""Which weights a model name meant: the store keys every result by it, so a checkpoint
overwritten in place is never answered with the old one's samples.

A local directory is digested from every small file in full (config, tokenizer) and, for
each weight file, its size, its first and last MiB (a safetensors header lists every
tensor's name, dtype, shape and offsets; any fine-tune rewrites the data right after it):
seconds for a 70B checkpoint, where a full read would take minutes. A hub id is its name and
revision. Settings that change the numbers a model produces (dtype, quantization, ...) are
part of the digest too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SMALL_FILE = 1 << 20  # files up to this size are read whole
_SAMPLE = 1 << 20
# Engine arguments that change what a model generates for the same request.
# (Per-request seeds are in each request's key; the engine's own seed is not needed.)
NUMERIC_ARGS = ("dtype", "quantization", "kv_cache_dtype", "tokenizer", "revision",
                "tokenizer_revision", "max_model_len", "hf_overrides")


def model_fingerprint(pretrained: str,
                      settings: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(the digest of ``pretrained`` under ``settings`` (engine arguments; those in
    ``NUMERIC_ARGS`` count), the digest of its weights alone, a description of both). The
    same weights under other settings are another fingerprint but the same model; other
    weights under the same name are another model."""
    chosen = {k: settings[k] for k in NUMERIC_ARGS if settings.get(k) not in (None, "auto")}
    digest = hashlib.sha256()
    directory = Path(pretrained)
    if directory.is_dir():
        files = sorted(p for p in directory.rglob("*")
                       if p.is_file() and not any(part.startswith(".") for part in
                                                  p.relative_to(directory).parts))
        for path in files:
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(_file_digest(path))
        source = {"directory": str(directory.resolve()), "files": len(files)}
    else:
        digest.update(f"hub:{pretrained}".encode())
        source = {"hub": pretrained}
    weights = digest.hexdigest()
    digest.update(json.dumps(chosen, sort_keys=True, default=str).encode())
    return digest.hexdigest(), weights, {**source, **chosen}


def _file_digest(path: Path) -> bytes:
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode() + b"\0")
    with path.open("rb") as f:
        if size <= SMALL_FILE:
            digest.update(f.read())
        else:
            digest.update(f.read(_SAMPLE))
            f.seek(size - _SAMPLE)
            digest.update(f.read(_SAMPLE))
    return digest.digest()
