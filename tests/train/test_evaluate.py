"""``main.py evaluate`` and its metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import main as entry
from ca2sis.checkpoint import save_model
from ca2sis.config import preset
from ca2sis.metrics.fid import frechet_distance, kid_from_features
from ca2sis.metrics.reconstruction import l1, psnr, ssim
from ca2sis.metrics.segmentation import ConfusionMatrix
from ca2sis.model import CA2SIS


def test_reconstruction_metrics_of_identical_and_opposite_images() -> None:
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.allclose(ssim(x, x), torch.ones(2), atol=1e-5)
    assert l1(x, x).max() == 0 and psnr(x, x).min() > 90
    black, white = -torch.ones(1, 3, 16, 16), torch.ones(1, 3, 16, 16)
    assert l1(black, white).item() == 2.0 and abs(psnr(black, white).item()) < 1e-6


def test_miou_and_accuracy_count_only_classes_that_appear() -> None:
    cm = ConfusionMatrix(4)
    truth = np.array([[0, 0], [1, 1]])
    cm.add(truth, np.array([[0, 0], [1, 0]]))
    assert cm.pixel_accuracy() == 0.75
    assert abs(cm.miou() - (2 / 3 + 1 / 2) / 2) < 1e-9  # classes 2 and 3 never appear


def test_frechet_distance_is_zero_for_equal_statistics_and_grows_with_the_mean_gap() -> None:
    rng = np.random.default_rng(0)
    f = rng.normal(size=(200, 4))
    mu, cov = f.mean(0), np.cov(f, rowvar=False)
    assert abs(frechet_distance(mu, cov, mu, cov)) < 1e-6
    assert abs(frechet_distance(mu, cov, mu + 1, cov) - 4.0) < 1e-6


def test_evaluate_writes_a_json_report_and_prints_a_table(tiny_data: Path, tmp_path: Path, capsys) -> None:
    torch.manual_seed(0)
    weights = tmp_path / "g.safetensors"
    save_model(weights, CA2SIS(preset("tiny")))
    out = tmp_path / "eval.json"
    code = entry.main(
        [
            "evaluate",
            "--weights",
            str(weights),
            "--data",
            str(tiny_data),
            "--json",
            str(out),
            "--max-images",
            "4",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["images"] == 4
    assert report["fid"]["backend"] in ("fid-helper", "pytorch-fid") and report["fid"]["value"] > 0
    assert 0 <= report["reconstruction"]["ssim"] <= 1 and report["reconstruction"]["l1"] > 0
    seg = report["segmentation"]
    assert (seg["miou"] is not None) or seg["note"]  # a missing parser is a note, not a failure
    if seg["miou"] is not None:  # the same parser on the real images: the ceiling, reported beside
        assert 0 <= seg["real_miou"] <= 1 and 0 <= seg["real_accuracy"] <= 1
        # 19 classes: also scored against the test masks renamed to one left/right convention
        assert 0 <= seg["miou_standard_sides"] <= 1
    assert report["kid"]["value"] is not None and report["kid"]["std"] >= 0
    table = capsys.readouterr().out
    assert "FID" in table and "KID" in table and "PSNR" in table and "parser mIoU" in table


def test_evaluate_refuses_a_missing_weights_file(tiny_data: Path, tmp_path: Path, capsys) -> None:
    code = entry.main(["evaluate", "--weights", str(tmp_path / "none.safetensors"), "--data", str(tiny_data)])
    assert code == 2 and "none.safetensors" in capsys.readouterr().err


def test_random_styles_add_fid_and_diversity(tiny_data: Path, tmp_path: Path) -> None:
    from ca2sis.evaluate import EvalConfig, evaluate, format_table

    weights = tmp_path / "g.safetensors"
    torch.manual_seed(0)
    save_model(weights, CA2SIS(preset("tiny")), {"mapping": "trained"})
    report = evaluate(EvalConfig(weights=weights, data=tiny_data, max_images=4, parser="off",
                                 random_styles=True))
    rnd = report["random_styles"]
    assert rnd["fid"] is not None and rnd["diversity_l1"] >= 0 and rnd["mapping"] == "trained"
    assert "random-style diversity" in format_table(report)
    assert "random_styles" not in evaluate(EvalConfig(weights=weights, data=tiny_data, max_images=2,
                                                      parser="off", fid="off"))


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_gap() -> None:
    rng = np.random.default_rng(0)
    real, same = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
    near, _ = kid_from_features(real, same, subsets=20, subset_size=100)
    shifted, _ = kid_from_features(real, same + 0.5, subsets=20, subset_size=100)
    further, _ = kid_from_features(real, same + 1.0, subsets=20, subset_size=100)
    assert abs(near) < 0.02 < shifted < further
    # over many subsets the mean is the unbiased MMD² estimate on the whole sets, and subsets of
    # a small set differ from each other (half the set each), so the std says something
    x, y = real[:50], same[:50] + 0.5
    k = lambda a, b: (a @ b.T / 16 + 1) ** 3  # noqa: E731
    off = 50 * 49
    direct = ((k(x, x).sum() - np.trace(k(x, x))) / off + (k(y, y).sum() - np.trace(k(y, y))) / off
              - 2 * k(x, y).mean())
    mean, std = kid_from_features(x, y, subsets=2000, subset_size=1000)
    assert mean == pytest.approx(direct, rel=0.03) and std > 0
