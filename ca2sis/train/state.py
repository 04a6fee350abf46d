"""Training checkpoints: one safetensors file per checkpoint, written atomically, read without pickle.

Tensors (G, D, EMA, optimizer moments, torch RNG states) go in the safetensors body; everything
else (step, epoch, position in the epoch, optimizer hyper-parameters, Python/NumPy RNG states, the
best score so far) goes in a JSON string in the header. A digest over all tensor bytes is stored too,
so a damaged or half-written file is refused with a clear error instead of resuming from garbage.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ca2sis.atomic import atomic_write

STATE_KEY = "ca2sis.train_state"
FORMAT = "ca2sis-train-state/1"


class CorruptCheckpoint(RuntimeError):
    """A training checkpoint that cannot be trusted (truncated, damaged, or not one of ours)."""


def _digest(tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for key in sorted(tensors):
        t = tensors[key]
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def flatten_optimizer(prefix: str, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Move an optimizer state dict's tensors into ``tensors``; return the JSON-able rest."""
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in state["state"].items():
        for name, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}/state/{idx}/{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer(prefix: str, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    head = f"{prefix}/state/"
    for key, value in tensors.items():
        if key.startswith(head):
            idx, name = key[len(head) :].split("/", 1)
            state.setdefault(int(idx), {})[name] = value
    for idx, entry in meta["scalars"].items():
        state.setdefault(int(idx), {}).update(entry)
    groups = [dict(g, betas=tuple(g["betas"])) if "betas" in g else g for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_state(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Write ``tensors`` + ``meta`` to ``path`` atomically (temp file in the same folder, fsync, replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    header = {"format": FORMAT, "digest": _digest(tensors), "meta": meta}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={STATE_KEY: json.dumps(header)}))


def load_state(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_state`; raise :class:`CorruptCheckpoint` if it is damaged."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            header_text = (f.metadata() or {}).get(STATE_KEY)
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CorruptCheckpoint(f"checkpoint {path} is damaged or incomplete and was not loaded ({exc})") from exc
    if header_text is None:
        raise CorruptCheckpoint(f"{path} is not a training checkpoint (no training state in its header)")
    try:
        header = json.loads(header_text)
    except json.JSONDecodeError as exc:
        raise CorruptCheckpoint(f"checkpoint {path} has a damaged header ({exc})") from exc
    if header.get("format") != FORMAT:
        raise CorruptCheckpoint(f"{path}: unknown checkpoint format {header.get('format')!r}")
    if _digest(tensors) != header.get("digest"):
        raise CorruptCheckpoint(f"checkpoint {path} is damaged: its tensors do not match the stored digest")
    return tensors, header["meta"]


def split_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    head = prefix + "/"
    return {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}


def host_rng_state() -> dict[str, Any]:
    """Python's and NumPy's global RNG states as JSON-able lists."""
    py = random.getstate()
    np_state = np.random.get_state()
    return {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
    }


def set_host_rng_state(meta: dict[str, Any]) -> None:
    py = meta["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    npy = meta["numpy"]
    np.random.set_state((npy[0], np.array(npy[1], dtype=np.uint32), *npy[2:]))
