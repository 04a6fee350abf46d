"""Our own checkpoint format: safetensors with the config inside, so a file rebuilds its model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ca2sis.checkpoint import load_model, read_metadata, save_model
from ca2sis.config import ModelConfig, preset
from ca2sis.model import CA2SIS
from ca2sis.official import CheckpointMismatch


def test_config_survives_a_round_trip_through_a_checkpoint(tmp_path: Path, tiny_model) -> None:
    path = tmp_path / "m.safetensors"
    save_model(path, tiny_model, {"trained_on": "nothing"})
    model, config, meta = load_model(path)
    assert config == tiny_model.config
    assert meta["trained_on"] == "nothing"
    for k, v in tiny_model.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k


def test_config_json_round_trip_is_exact() -> None:
    for name in ("celebamask-256", "demo-128", "tiny"):
        config = preset(name)
        assert ModelConfig.from_json(config.to_json()) == config


def test_a_safetensors_file_without_our_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointMismatch, match="without a .* model config"):
        load_model(path)


def test_tensors_that_do_not_fit_the_stored_config_are_refused(tmp_path: Path, tiny_model) -> None:
    path = tmp_path / "m.safetensors"
    save_model(path, tiny_model)
    meta = read_metadata(path)
    other = preset("tiny", num_classes=7)
    meta["ca2sis.config"] = other.to_json()
    state = {k: v.contiguous() for k, v in tiny_model.state_dict().items()}
    save_file(state, str(path), metadata=meta)
    with pytest.raises(CheckpointMismatch, match="shape|missing"):
        load_model(path)


def test_a_truncated_file_is_refused_and_a_failed_save_keeps_the_previous_file(tmp_path: Path, tiny_model) -> None:
    path = tmp_path / "m.safetensors"
    save_model(path, tiny_model)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointMismatch):
        load_model(path)
    path.write_bytes(good)

    class Broken(CA2SIS):
        def state_dict(self, *a, **k):
            raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space"):
        save_model(path, Broken(tiny_model.config))
    assert path.read_bytes() == good
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
