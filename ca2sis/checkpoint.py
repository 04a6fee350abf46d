"""Model weights on disk.

Our format is a safetensors file whose metadata carries the :class:`ModelConfig` as JSON (key
``ca2sis.config``) plus free-form provenance, so a file rebuilds its own model. The authors'
``latest_net_G.pth`` is accepted too (read with ``weights_only=True``: no code is unpickled).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ca2sis.atomic import atomic_write
from ca2sis.config import ModelConfig
from ca2sis.model import CA2SIS
from ca2sis.official import CheckpointMismatch, convert_state_dict, infer_num_classes, official_config, read_official

CONFIG_KEY = "ca2sis.config"
FORMAT_KEY = "ca2sis.format"
FORMAT = "ca2sis-generator/1"


def save_model(path: str | Path, model: CA2SIS, metadata: dict[str, str] | None = None) -> None:
    """Write the model's weights and config atomically as safetensors."""
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta[CONFIG_KEY] = model.config.to_json()
    meta[FORMAT_KEY] = FORMAT
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    atomic_write(Path(path), lambda tmp: save_file(state, str(tmp), metadata=meta))


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of one of our files, without reading the tensors."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointMismatch(f"{path}: not a readable safetensors file ({err})") from err


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[CA2SIS, ModelConfig, dict[str, str]]:
    """Build and load a model from one of our safetensors files or from the authors' ``.pth``.

    Raises :class:`CheckpointMismatch` (a ``ValueError``) naming what does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    if path.suffix in (".pth", ".pt", ".ckpt", ".bin"):
        official = read_official(path)
        config = official_config(infer_num_classes(official))
        model = CA2SIS(config)
        model.load_state_dict(convert_state_dict(official, model))
        meta = {"source": "authors' release", "file": path.name}
        return model.to(device).eval(), config, meta

    meta = read_metadata(path)
    if CONFIG_KEY not in meta:
        raise CheckpointMismatch(
            f"{path}: a safetensors file without a (CA)²-SIS model config; "
            "was it written by `main.py train` or ca2sis.checkpoint.save_model?"
        )
    try:
        config = ModelConfig.from_json(meta[CONFIG_KEY])
    except (ValueError, TypeError, json.JSONDecodeError) as err:
        raise CheckpointMismatch(f"{path}: its model config is invalid ({err})") from err
    model = CA2SIS(config)
    expected = model.state_dict()
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        missing = sorted(set(expected) - keys)
        unexpected = sorted(keys - set(expected))
        if missing or unexpected:
            raise CheckpointMismatch(
                f"{path}: tensors do not match its config {config.name!r} "
                f"(missing: {missing[:3]}, unexpected: {unexpected[:3]})"
            )
        state = {}
        for k in expected:
            t = f.get_tensor(k)
            if t.shape != expected[k].shape:
                raise CheckpointMismatch(
                    f"{path}: {k} has shape {tuple(t.shape)}, its config needs {tuple(expected[k].shape)}"
                )
            state[k] = t
    model.load_state_dict(state)
    return model.to(device).eval(), config, meta
