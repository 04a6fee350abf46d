"""The hair-detail benchmark's two figures: fine texture of any kind, and texture with one direction."""

from __future__ import annotations

import numpy as np

from bench import hair_detail


def grey(values: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(values, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def test_strands_have_more_oriented_energy_than_noise_of_the_same_detail() -> None:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64]
    strands = grey(128 + 40 * np.sin((x + 0.3 * y) * 1.3))  # parallel lines, as combed hair
    noise = grey(128 + rng.normal(0, 40, (64, 64)))
    region = hair_detail.erode(np.ones((64, 64), bool), 4)
    detail_s, oriented_s = hair_detail.hair_figures(strands, region)
    detail_n, oriented_n = hair_detail.hair_figures(noise, region)
    assert oriented_s / detail_s > 2 * oriented_n / detail_n


def test_a_flat_region_has_no_detail() -> None:
    region = np.ones((32, 32), bool)
    assert hair_detail.hair_figures(grey(np.full((32, 32), 90.0)), region) == (0.0, 0.0)


def test_erosion_takes_the_outline_and_the_image_edge_away() -> None:
    region = np.zeros((20, 20), bool)
    region[5:15, 0:10] = True
    eroded = hair_detail.erode(region, 2)
    assert eroded.sum() == 36 and eroded[7:13, 2:8].all()
