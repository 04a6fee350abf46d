"""The default fit on the real presets: adapters small enough for a project file, and the authors'
256² model fits too (with random weights here: the check is that it runs, not how well)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis.config import preset
from ca2sis.editor import Editor
from ca2sis.fit import adapters as lora
from ca2sis.fit import default_config
from ca2sis.model import CA2SIS
from tests.model.conftest import face_like_mask, photo_like

LIMITS_MB = {"demo-128": 5.0, "celebamask-256": 20.0}  # what the editor promises a project file


@pytest.mark.parametrize("name", list(LIMITS_MB))
def test_the_default_fits_adapters_stay_under_the_size_limit(name: str) -> None:
    config = default_config()
    generator = CA2SIS(preset(name)).generator
    layers = lora.select_layers(generator, config.layers)
    tuned = lora.trainable_copy(generator, layers, config.rank, config.seed)
    adapters = lora.extract(tuned, layers)
    size_mb = sum(a.nbytes for a in adapters.values()) / 1e6
    assert 0 < size_mb <= LIMITS_MB[name], f"{name}: {size_mb:.2f} MB of adapters"
    assert len(layers) == sum(isinstance(m, lora.ADAPTED) for m in generator.modules())


@pytest.mark.slow
def test_the_authors_256_model_fits_one_step() -> None:
    torch.manual_seed(0)
    model = CA2SIS(preset("celebamask-256")).eval()
    editor = Editor(model, device="cpu")
    key = editor.add_face(photo_like(256, seed=1), face_like_mask(256))
    seen: list[float] = []
    result = editor.fit(key, default_config().replace(steps=1, locality_edits=1),
                        progress=lambda stage, f: seen.append(f))
    assert seen == [1.0] and np.isfinite(result.psnr_after)
    assert result.adapter_bytes / 1e6 <= LIMITS_MB["celebamask-256"]
