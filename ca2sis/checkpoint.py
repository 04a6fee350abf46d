"""Model weights on disk.

Our format is a safetensors file whose metadata carries the :class:`ModelConfig` as JSON (key
``ca2sis.config``) plus free-form provenance, so a file rebuilds its own model. The authors'
``latest_net_G.pth`` is accepted too (read with ``weights_only=True``: no code is unpickled).

A weights file is untrusted input: it must be a regular file under :data:`MAX_WEIGHTS_BYTES`, its
config is validated field by field, and the model it describes is counted on the ``meta`` device
(no memory) and refused above :data:`MAX_PARAMETERS` before anything is allocated. Tensors that are
not finite are refused too: they would render black images forever after.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ca2sis.atomic import atomic_write
from ca2sis.config import ModelConfig
from ca2sis.model import CA2SIS
from ca2sis.official import CheckpointMismatch, convert_state_dict, infer_num_classes, official_config, read_official
from ca2sis.safe_files import FileRefused, check_archive, check_regular

CONFIG_KEY = "ca2sis.config"
FORMAT_KEY = "ca2sis.format"
FORMAT = "ca2sis-generator/1"
# The authors' CelebAMask-HQ generator has 77 M parameters, an ADE20k-sized one (151 classes) 394 M.
MAX_PARAMETERS = 1_000_000_000
MAX_WEIGHTS_BYTES = 8 << 30
PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")


def build_on_meta(config: ModelConfig, source: str | Path = "the model") -> CA2SIS:
    """The model ``config`` describes, on the meta device (shapes only, nothing allocated), after its
    parameter count is checked against :data:`MAX_PARAMETERS`."""
    try:
        with torch.device("meta"):
            model = CA2SIS(config)
    except (ValueError, RuntimeError, TypeError, ZeroDivisionError) as err:
        raise CheckpointMismatch(f"{source}: config {config.name!r} does not build a model ({err})") from err
    count = sum(p.numel() for p in model.parameters())
    if count > MAX_PARAMETERS:
        raise CheckpointMismatch(
            f"{source}: its config {config.name!r} asks for {count / 1e6:,.0f} M parameters "
            f"({count * 4 / 2**30:,.1f} GB in fp32); the limit is {MAX_PARAMETERS / 1e6:,.0f} M"
        )
    return model


def parameter_count(config: ModelConfig) -> int:
    """How many parameters ``config`` builds, counted on the meta device."""
    return sum(p.numel() for p in build_on_meta(config).parameters())


def _materialise(model: CA2SIS, state: dict[str, torch.Tensor]) -> CA2SIS:
    # Storage is allocated only now, and filled from the file: no random initialisation to throw away.
    model = model.to_empty(device="cpu")
    model.load_state_dict(state)
    return model


def _check_weights_file(path: Path) -> None:
    try:
        check_regular(path, "weights file", MAX_WEIGHTS_BYTES)
        if zipfile.is_zipfile(path):  # PyTorch's format: a zip whose members become tensors
            with zipfile.ZipFile(path) as zf:
                check_archive(zf, str(path), MAX_WEIGHTS_BYTES, MAX_WEIGHTS_BYTES)
    except FileRefused as err:
        raise CheckpointMismatch(str(err)) from None
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointMismatch(f"{path}: not a readable weights file ({err})") from None


def _check_finite(path: Path, state: dict[str, torch.Tensor]) -> None:
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointMismatch(f"{path}: {key} holds NaN or infinite values; the weights are damaged")


def save_model(path: str | Path, model: CA2SIS, metadata: dict[str, str] | None = None) -> None:
    """Write the model's weights and config atomically as safetensors."""
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta[CONFIG_KEY] = model.config.to_json()
    meta[FORMAT_KEY] = FORMAT
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    atomic_write(Path(path), lambda tmp: save_file(state, str(tmp), metadata=meta))


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of one of our files, without reading the tensors."""
    _check_weights_file(Path(path))
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
    if not path.exists():
        raise FileNotFoundError(f"no weights file at {path}")
    _check_weights_file(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        official = read_official(path)
        config = official_config(infer_num_classes(official))
        model = build_on_meta(config, path)
        state = convert_state_dict(official, model)
        _check_finite(path, state)
        model = _materialise(model, state)
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
    model = build_on_meta(config, path)
    try:
        state = _read_tensors(path, config, model.state_dict())
    except (SafetensorError, OSError, RuntimeError) as err:
        raise CheckpointMismatch(f"{path}: the tensors cannot be read ({err})") from err
    _check_finite(path, state)
    model = _materialise(model, state)
    return model.to(device).eval(), config, meta


def _read_tensors(path: Path, config: ModelConfig, expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
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
            shape = tuple(f.get_slice(k).get_shape())  # from the header: nothing is read yet
            if shape != tuple(expected[k].shape):
                raise CheckpointMismatch(
                    f"{path}: {k} has shape {shape}, its config needs {tuple(expected[k].shape)}"
                )
            state[k] = f.get_tensor(k)
    return state
