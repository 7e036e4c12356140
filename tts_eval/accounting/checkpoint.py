"""Exact parameter counts from a checkpoint's safetensors headers, without reading tensors.

A safetensors file starts with an 8-byte header length and a JSON header naming every tensor
and its shape; ``json`` and ``struct`` read it, so counting a 70B checkpoint takes
milliseconds and imports nothing heavy.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MAX_HEADER = 100 * 1024 * 1024
_EMBED_RE = re.compile(
    r"(?:^|\.)(?:embed_tokens|wte|wpe|embed_in|word_embeddings|tok_embeddings)\.weight$"
)
_LM_HEAD_RE = re.compile(r"(?:^|\.)lm_head\.(?:weight|bias)$|^(?:embed_out|output)\.weight$")
_NON_TEXT_RE = re.compile(
    r"vision|visual|multi_modal_projector|mm_projector|audio|image_newline|patch_embed"
)
_BUFFER_RE = re.compile(r"rotary_emb\.inv_freq$|\.attn\.masked_bias$")
_SCALE_RE = re.compile(r"(?:weight_scale_inv|weight_scale|input_scale|k_scale|v_scale)$")
_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def _safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """Tensor name -> shape from a safetensors header (8-byte length + JSON), no tensor data."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: too short to be a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > _MAX_HEADER:
            raise ValueError(
                f"{path}: not a safetensors file (header length {n}, file size {size}; "
                "a git-lfs pointer?)"
            )
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: unreadable safetensors header ({e})") from e
    if not isinstance(header, dict):
        raise ValueError(f"{path}: safetensors header is not a JSON object")
    shapes: dict[str, list[int]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise ValueError(f"{path}: tensor {name!r} has no valid 'shape' in the header")
        shapes[name] = shape
    return shapes


def weight_files(directory: Path) -> list[Path]:
    """Safetensors files of a HF model directory: the index's shards, or model.safetensors.

    Other ``*.safetensors`` files are ignored on purpose: repos such as Mistral's also ship a
    ``consolidated.safetensors`` holding the same weights again.
    """
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        data = read_json(index)
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise ValueError(f"{index}: missing or empty 'weight_map'")
        paths = [directory / str(name) for name in sorted(set(weight_map.values()))]
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(f"{index}: shard {p.name!r} listed in weight_map not found")
        return paths
    single = directory / "model.safetensors"
    return [single] if single.is_file() else []




@dataclass(frozen=True)
class TensorCount:
    """Elements of a checkpoint's text model, split as ParamCount needs them."""

    total: int
    embedding: int
    lm_head: int
    skipped: int  # buffers, quantization scales, vision towers, MTP layers


def count_tensors(
    files: list[Path], *, layers: int, multimodal: bool, mtp: bool, quantized: bool
) -> TensorCount:
    """Count the text model's elements in ``files``; ``layers`` is the text model's depth
    (MTP layers past it are left out when ``mtp``)."""
    shapes: dict[str, list[int]] = {}
    for path in files:
        shapes.update(_safetensors_shapes(path))
    total = embedding = lm_head = skipped = 0
    for name, dims in shapes.items():
        n = math.prod(dims)
        if (
            _BUFFER_RE.search(name)
            or (name.endswith(".attn.bias") and len(dims) == 4)  # GPT-2 causal mask buffer
            or (quantized and _SCALE_RE.search(name))
            or (multimodal and _NON_TEXT_RE.search(name))
            or name.startswith("mtp.")
        ):
            skipped += n
            continue
        m = _LAYER_RE.search(name)
        if mtp and m and int(m.group(1)) >= layers:
            skipped += n
            continue
        total += n
        if _EMBED_RE.search(name):
            embedding += n
        elif _LM_HEAD_RE.search(name):
            lm_head += n
    return TensorCount(total, embedding, lm_head, skipped)
