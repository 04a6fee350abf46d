"""Fitting the mapping network to the real style codes before the mapping stage."""

from __future__ import annotations

from pathlib import Path

import torch

from ca2sis.config import preset
from ca2sis.model import CA2SIS
from ca2sis.train.loop import Trainer
from ca2sis.train.mapping_init import fit_mapping, style_statistics

from .conftest import tiny_config


class _KnownStyles:
    """Stands in for G.encode_style: hands out prepared style codes batch by batch."""

    def __init__(self, batches: list[torch.Tensor]) -> None:
        self.batches = iter(batches)

    def encode_style(self, image: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        return next(self.batches)


def test_statistics_count_only_the_classes_a_face_shows() -> None:
    styles = [torch.tensor([[[1.0, 2.0], [9.0, 9.0]], [[3.0, 4.0], [5.0, 6.0]]])]  # 2 faces × 2 classes × 2
    onehot = torch.zeros(2, 2, 4, 4)
    onehot[:, 0] = 1  # both faces show class 0
    onehot[1, 1, 0, 0] = 1  # only the second face shows class 1: the first one's 9s must not count
    mean, cov, count = style_statistics(_KnownStyles(styles), [(torch.zeros(2, 3, 4, 4), onehot)])
    assert count.tolist() == [2, 1]
    assert torch.allclose(mean, torch.tensor([[2.0, 3.0], [5.0, 6.0]]))
    assert torch.allclose(cov[0], torch.tensor([[1.0, 1.0], [1.0, 1.0]]))  # (±1, ±1) around the mean


def test_fitted_mapping_reproduces_mean_and_main_directions() -> None:
    torch.manual_seed(0)
    G = CA2SIS(preset("tiny"))
    c, d, k = G.config.num_classes, G.config.context_dim, G.config.mapping_dim
    basis = torch.randn(c, d, 3)  # every class varies along 3 directions (fewer than the noise has)
    cov = basis @ basis.transpose(1, 2)
    mean = torch.randn(c, d)
    count = torch.full((c,), 10.0)
    count[4] = 0  # a class no face showed keeps its head
    before = G.mapping.heads[4][-1].weight.clone()
    fit_mapping(G, mean, cov, count)
    with torch.no_grad():
        out = G.sample_styles(torch.randn(20000, k, generator=torch.Generator().manual_seed(1)))
    for cls in (0, 7):
        assert torch.allclose(out[:, cls].mean(0), mean[cls], atol=0.1 * cov[cls].diagonal().sqrt().max())
        measured = torch.cov(out[:, cls].T)
        assert torch.allclose(measured, cov[cls], atol=0.08 * cov[cls].abs().max())
    assert torch.equal(G.mapping.heads[4][-1].weight, before)


def test_mapping_stage_with_data_init_starts_diverse(tiny_data: Path, tmp_path: Path) -> None:
    Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path / "main").train()
    fresh = Trainer(tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main")), preset("tiny"),
                    tmp_path / "m1")
    fitted = Trainer(tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main"), mapping_init="data"),
                     preset("tiny"), tmp_path / "m2")
    z = torch.randn(64, fresh.model_config.mapping_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        spread_fresh = fresh.G.sample_styles(z).std(0).mean()
        spread_fitted = fitted.G.sample_styles(z).std(0).mean()
    assert spread_fitted > spread_fresh  # the fitted network spreads like real styles do
    losses = fitted.train_step(next(iter(fitted._loader(0, 0))))
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())


def test_zero_steps_export_the_fit_alone(tiny_data: Path, tmp_path: Path) -> None:
    import pytest

    from ca2sis.checkpoint import read_metadata
    from ca2sis.train.rundir import GENERATOR

    Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), tmp_path / "main").train()
    cfg = tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main"), mapping_init="data", max_steps=0)
    result = Trainer(cfg, preset("tiny"), tmp_path / "fit").train()
    meta = read_metadata(tmp_path / "fit" / GENERATOR)
    assert result["step"] == 0 and meta["mapping"] == "fitted" and meta["mapping_init"] == "data"
    with pytest.raises(ValueError, match="at least 1"):
        tiny_config(tiny_data, stage="mapping", from_run=str(tmp_path / "main"), max_steps=0)
