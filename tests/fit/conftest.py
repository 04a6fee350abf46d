"""A tiny model, an editor on it and one fit, shared by the fit tests (a fit costs seconds, not ms)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis.config import preset
from ca2sis.editor import Editor
from ca2sis.fit import FitConfig, default_config
from ca2sis.model import CA2SIS
from tests.model.conftest import face_like_mask, photo_like

# Short and without the perceptual network: the behaviour under test does not depend on either.
# Both phases run (the default may skip the pivot phase).
QUICK = default_config().replace(steps=12, pivot_share=0.25, perceptual_weight=0.0, locality_edits=4)


def tiny(seed: int = 0) -> CA2SIS:
    torch.manual_seed(seed)
    model = CA2SIS(preset("tiny")).eval()
    with torch.no_grad():  # zero-initialised output convolutions would make styles do nothing
        for p in model.parameters():
            if p.abs().sum() == 0 and p.dim() > 1:
                p.normal_(0, 0.2)
    return model


def other_face() -> tuple[np.ndarray, np.ndarray]:
    mask = face_like_mask(32)
    mask[:10] = 13  # more hair
    return photo_like(32, seed=2), mask


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """The tiny model saved once, so several editors can load the very same weights."""
    from ca2sis.checkpoint import save_model

    path = tmp_path_factory.mktemp("fit") / "tiny.safetensors"
    save_model(path, tiny())
    return path


@pytest.fixture(scope="module")
def fitted(weights):
    """(editor, face key, fit result) after one quick fit."""
    editor = Editor.load(weights, device="cpu", precision="fp32")
    key = editor.add_face(photo_like(32, seed=1), face_like_mask(32))
    return editor, key, editor.fit(key, QUICK)


def quick(**changes) -> FitConfig:
    return QUICK.replace(**changes)
