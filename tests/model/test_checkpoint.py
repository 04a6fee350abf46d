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


def test_a_config_asking_for_huge_widths_is_refused_before_anything_is_allocated(tmp_path: Path, tiny_model,
                                                                                  monkeypatch) -> None:
    import ca2sis.checkpoint as checkpoint

    path = tmp_path / "huge.safetensors"
    huge = preset("tiny").replace(mapping_hidden=16384, mapping_layers=16)  # 81 G parameters, 300 GB
    save_file({}, str(path), metadata={"ca2sis.config": huge.to_json(), "ca2sis.format": "ca2sis-generator/1"})
    allocated = []
    monkeypatch.setattr(checkpoint, "_materialise", lambda *a: allocated.append(a))
    with pytest.raises(CheckpointMismatch, match=r"asks for 80,543 M parameters \(300.0 GB in fp32\); the limit"):
        load_model(path)
    assert not allocated
    assert checkpoint.parameter_count(preset("celebamask-256")) == 77_229_243  # the authors' model is well inside


@pytest.mark.parametrize(("change", "words"), [
    ({"base_channels": 10**6}, "outside 1..8192"),
    ({"num_classes": "19"}, "whole number"),
    ({"stages": []}, "at least one generator stage"),
])
def test_a_config_out_of_range_or_of_the_wrong_type_is_refused_by_name(change, words) -> None:
    data = {**preset("tiny").to_dict(), **change}
    with pytest.raises(ValueError, match=words):
        ModelConfig.from_dict(data)


def test_weights_that_are_not_finite_are_refused(tmp_path: Path, tiny_model) -> None:
    path = tmp_path / "nan.safetensors"
    with torch.no_grad():
        next(tiny_model.parameters()).fill_(float("nan"))
    save_model(path, tiny_model)
    with pytest.raises(CheckpointMismatch, match="NaN or infinite"):
        load_model(path)


def test_a_pickle_outside_pytorchs_zip_format_is_never_unpickled(tmp_path: Path) -> None:
    import pickle

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "latest_net_G.pth"
    path.write_bytes(pickle.dumps({"w": Evil()}))
    with pytest.raises(CheckpointMismatch, match="not a PyTorch zip checkpoint"):
        load_model(path)
    assert not marker.exists()


def test_unknown_devices_are_refused_with_what_to_write_instead() -> None:
    from ca2sis.device import resolve_device

    assert resolve_device("cpu") == torch.device("cpu") and resolve_device(" CPU ") == torch.device("cpu")
    for device in ("tpu:7", "gpu", "cuda:-1", "cpu:1", "meta", ""):
        with pytest.raises(ValueError, match="unknown device .* use auto, cpu, cuda, cuda:N or mps"):
            resolve_device(device)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda:7")
