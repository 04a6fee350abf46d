"""The models and samples that ship with the project work on a fresh machine, offline."""

from __future__ import annotations

import numpy as np
import pytest

from ca2sis import weights
from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.paths import BUNDLED_MODELS
from ca2sis.photo import load_image, load_mask
from tests.weights.conftest import SAMPLES, sample_pairs

BUNDLED = [m for m in weights.list_models() if m.entry.location == "bundled"]


def test_the_bundled_manifest_describes_each_model_fully() -> None:
    names = {m.entry.name for m in weights.list_models()}
    assert {"demo-128", "face-parser", "ca2sis-celebamask-256", "vgg19", "facexlib-bisenet"} <= names
    for m in BUNDLED:
        e = m.entry
        assert e.sha256 and len(e.sha256) == 64, f"{e.name}: bundled weights need a checksum"
        assert "non-commercial" in e.license, f"{e.name}: weights from research-only data must say so"
        assert e.source and (e.classes == 19 or e.kind == "detector")


@pytest.mark.parametrize("name", [m.entry.name for m in BUNDLED])
def test_every_bundled_model_is_installed_and_matches_its_checksum(name: str) -> None:
    assert weights.verify(name, progress=False).is_file()


def test_bundled_weights_stay_small_enough_to_commit() -> None:
    assert (BUNDLED_MODELS / "demo-128.safetensors").stat().st_size <= 50 * 2**20


def test_without_a_registered_model_the_default_is_the_bundled_demo() -> None:
    assert weights.default_model() == BUNDLED_MODELS / "demo-128.safetensors"


def test_the_demo_model_loads_by_name_and_renders_a_sample_mask_at_its_resolution() -> None:
    editor = weights.load_editor("demo-128", device="cpu")
    image_path, mask_path = sample_pairs()[0]
    image, mask = load_image(image_path), load_mask(mask_path, editor.classes)
    out = editor.reconstruct(image, mask)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    assert out.std() > 5, "a trained model gives an image, not a flat colour"
    # Its mapping network is fitted to real style codes, so random styles are offered and vary.
    assert editor.metadata.get("mapping") == "fitted" and editor.has_mapping
    first, second = editor.random_styles(1, mask), editor.random_styles(2, mask)
    assert not np.allclose(first, second)
    shapes = editor.embed_mask(mask)
    assert np.abs(editor.generate(shapes, first).astype(float) - editor.generate(shapes, second)).mean() > 3


def test_the_bundled_parser_loads_by_default_and_parses_a_sample_to_its_size() -> None:
    from ca2sis.parsing import load_parser

    assert weights.model_path("face-parser").is_file()
    parser = load_parser("auto", "cpu", cache=False)
    image = load_image(sample_pairs()[0][0])
    mask = parser.parse(image)
    assert mask.shape == image.shape[:2] and mask.max() < 19
    assert {1, 2, 4, 5} <= set(np.unique(mask).tolist()), "skin, nose and both eyes are found"


def test_samples_come_as_image_and_mask_pairs_with_their_licences_stated() -> None:
    pairs = sample_pairs()
    assert len(pairs) >= 3
    readme = (SAMPLES / "README.md").read_text()
    for image, mask in pairs:
        assert image.is_file(), f"{mask.name} has no image"
        assert image.name in readme, f"{image.name}: licence not stated in resources/samples/README.md"
        assert load_mask(mask, CELEBAMASK_HQ).shape == load_image(image).shape[:2]
