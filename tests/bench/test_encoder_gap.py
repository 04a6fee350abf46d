"""``bench/encoder_gap.py``: the encoder's share of the reconstruction error, measured honestly."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bench import encoder_gap
from ca2sis.checkpoint import save_model
from ca2sis.config import preset
from ca2sis.data.synthetic import write_synthetic_pairs
from ca2sis.model import CA2SIS


def test_optimised_codes_beat_the_encoder_and_the_weights_stay(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = preset("tiny")
    weights = tmp_path / "g.safetensors"
    save_model(weights, CA2SIS(config))
    before = weights.read_bytes()
    for split in ("train", "test"):
        write_synthetic_pairs(tmp_path / "data", count=3, size=config.resolution, seed=3,
                              num_classes=config.num_classes, split=split)
    out = tmp_path / "gap.json"
    assert encoder_gap.main(["--weights", str(weights), "--data", str(tmp_path / "data"), "--faces", "2",
                             "--steps", "15", "--lr", "0.1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    for split in ("train", "test"):
        faces = report["splits"][split]["faces"]
        assert len(faces) == 2
        # Starting from the encoder's codes and descending the same error, the optimum cannot be worse.
        assert all(f["optimised_codes"] >= f["encoder"] - 1e-3 for f in faces)
        mean = report["splits"][split]["mean"]
        assert abs(mean["gap_db"] - (mean["optimised_codes"] - mean["encoder"])) < 1e-9
    assert report["machine"]["threads"] == 1 and weights.read_bytes() == before


def test_class_mean_paint_is_exact_on_flat_classes() -> None:
    onehot = torch.zeros(1, 3, 4, 4)
    onehot[0, 0, :, :2] = 1
    onehot[0, 2, :, 2:] = 1
    real = torch.zeros(1, 3, 4, 4)
    real[:, :, :, :2] = 0.25
    real[:, :, :, 2:] = -0.5
    assert torch.equal(encoder_gap.class_mean_paint(real, onehot), real)
