"""Photos built from the bundled sample portraits (no shared data needed), with their truth.

The two-face photo is the case of a first real-photo try: 1400×1000, two faces rotated about 15°
at about 60% of the CelebA-HQ framing, on a textured background.
"""

from __future__ import annotations

import numpy as np

from ca2sis import paths
from ca2sis.data.scenes import Scene, make_scene, placement, procedural_texture
from ca2sis.parsing.localize import landmarks_from_mask
from ca2sis.photo import load_image, load_mask

SAMPLES = paths.PROJECT_ROOT / "resources" / "samples"


def sample_face(name: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None]:
    """(name, aligned 512² image, its mask, landmarks measured on that mask)."""
    mask = load_mask(SAMPLES / f"{name}_mask.png")
    return name, load_image(SAMPLES / f"{name}.png"), mask, landmarks_from_mask(mask)


def sample_scene(
    placements: list[tuple[float, float, tuple[float, float]]],
    size: tuple[int, int] = (1400, 1000),
    names: tuple[str, ...] = ("astronaut", "generated-1"),
    seed: int = 0,
    cut: bool = False,
) -> Scene:
    """The sample faces ``names`` at (scale, angle, centre) each, on a procedural texture."""
    rng = np.random.default_rng(seed)
    faces = [sample_face(n) for n in names[: len(placements)]]
    spots = [(placement(s, a, c), cut) for s, a, c in placements]
    return make_scene(procedural_texture(rng, size), faces, spots)


def two_face_photo(seed: int = 0) -> Scene:
    return sample_scene([(0.6, 15.0, (420.0, 500.0)), (0.62, -15.0, (1000.0, 520.0))], seed=seed)
