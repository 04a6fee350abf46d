"""The authors' released generator: every tensor maps, and our model computes what their code computes.

The reference numbers come from the shared fixture (their code run on CPU in fp32 with weights
regenerated from a recipe); see shared/design/official-fixture/README.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ca2sis.checkpoint import load_model
from ca2sis.model import CA2SIS
from ca2sis.official import CheckpointMismatch, key_map, official_config
from ca2sis.tensors import image_to_tensor, one_hot
from tests.shared_data import DESIGN, require

KEYS_FILE = DESIGN / "official-generator-keys.txt"
FIXTURE = DESIGN / "official-fixture"


def official_keys() -> list[tuple[str, tuple[int, ...]]]:
    rows = []
    for line in require(KEYS_FILE).read_text().splitlines():
        m = re.fullmatch(r"(\S+) \(([\d, ]*)\)", line.strip())
        assert m, f"unreadable key line {line!r}"
        rows.append((m.group(1), tuple(int(s) for s in m.group(2).split(",") if s.strip())))
    return rows


@pytest.fixture(scope="module")
def official_file(tmp_path_factory) -> Path:
    """An official-format checkpoint built with the fixture's weight recipe."""
    state = {
        name: torch.randn(shape, generator=torch.Generator().manual_seed(i), dtype=torch.float32) * 0.1
        for i, (name, shape) in enumerate(official_keys())
    }
    path = tmp_path_factory.mktemp("official") / "latest_net_G.pth"
    torch.save(state, path)
    return path


def test_key_map_covers_all_388_official_tensors_with_equal_shapes() -> None:
    expected = dict(official_keys())
    assert len(expected) == 388
    model = CA2SIS(official_config())
    ours = model.state_dict()
    mapping = key_map(model)
    assert sorted(mapping.values()) == sorted(expected)  # nothing missing, nothing left over
    for our_name, their_name in mapping.items():
        assert tuple(ours[our_name].shape) == expected[their_name], our_name


def test_our_model_computes_what_the_authors_code_computes(official_file: Path) -> None:
    require(FIXTURE)
    model, config, meta = load_model(official_file)
    assert config.name == "celebamask-256" and meta["source"] == "authors' release"
    image = np.asarray(Image.open(FIXTURE / "input-image.png").convert("RGB"))
    labels = torch.from_numpy(np.asarray(Image.open(FIXTURE / "input-mask.png")).astype(np.int64))[None]
    onehot = one_hot(labels, 19)

    def close(ours: torch.Tensor, name: str) -> None:
        ref = np.load(FIXTURE / name)
        diff = np.abs(ours.detach().numpy().reshape(ref.shape) - ref).max()
        assert diff <= 1e-4, f"{name}: max abs difference {diff:.2e}"

    with torch.no_grad():
        styles = model.encode_style(image_to_tensor(image), onehot)
        shapes = model.embed_mask(onehot)
        out = model.generate(shapes, styles, attention_target=onehot)
        fast = model.generate(shapes, styles)  # the inference path: fused and folded attention, pixel slices
        noise = torch.from_numpy(np.load(FIXTURE / "mapping-noise.npy"))[None]
        mapped = model.sample_styles(noise)
    close(styles[0], "style-codes.npy")
    close(shapes[0], "mask-embedding.npy")
    close(out.image[0], "output.npy")
    close(fast.image[0], "output.npy")
    close(out.attention_loss.reshape(1), "attention-loss.npy")
    close(mapped[0], "mapping-output.npy")


def test_a_checkpoint_with_a_missing_tensor_is_refused_naming_it(tmp_path: Path, official_file: Path) -> None:
    state = torch.load(official_file, weights_only=True)
    del state["cross3.proj_out.bias"]
    state["extra.weight"] = torch.zeros(1)
    bad = tmp_path / "latest_net_G.pth"
    torch.save(state, bad)
    with pytest.raises(CheckpointMismatch) as err:
        load_model(bad)
    assert "cross3.proj_out.bias" in str(err.value) and "extra.weight" in str(err.value)


def test_a_checkpoint_with_a_wrong_shape_is_refused_naming_it(tmp_path: Path, official_file: Path) -> None:
    state = torch.load(official_file, weights_only=True)
    state["out_conv.weight"] = torch.zeros(3, 64, 1, 1)
    bad = tmp_path / "latest_net_G.pth"
    torch.save(state, bad)
    with pytest.raises(CheckpointMismatch, match=r"out_conv.weight: file \(3, 64, 1, 1\)"):
        load_model(bad)


def test_a_pickle_with_code_is_not_unpickled(tmp_path: Path) -> None:
    bad = tmp_path / "evil.pth"

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"x": Payload()}, bad)
    with pytest.raises(CheckpointMismatch, match="not a readable PyTorch state dict"):
        load_model(bad)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "latest_net_G.pth"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointMismatch):
        load_model(junk)
