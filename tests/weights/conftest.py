from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ca2sis import paths
from ca2sis.checkpoint import save_model
from ca2sis.config import preset
from ca2sis.model import CA2SIS
from ca2sis.weights import sha256_of

SAMPLES = paths.PROJECT_ROOT / "resources" / "samples"


def sample_pairs() -> list[tuple[Path, Path]]:
    """The bundled sample portraits as (image, mask) pairs (``<stem>.png`` + ``<stem>_mask.png``)."""
    return [(m.with_name(m.name.replace("_mask.png", ".png")), m) for m in sorted(SAMPLES.glob("*_mask.png"))]


@pytest.fixture
def tiny_weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "src" / "tiny.safetensors"
    save_model(path, CA2SIS(preset("tiny")), {"source": "a test", "license": "test only"})
    return path


@pytest.fixture
def bundled_dir(tmp_path: Path, tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for ``models/`` holding one tiny synthesis model with its true checksum."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    (folder / "demo-128.safetensors").write_bytes(tiny_weights.read_bytes())
    manifest = {
        "models": [
            {
                "name": "demo-128", "file": "demo-128.safetensors", "kind": "synthesis", "preset": "tiny",
                "resolution": 32, "classes": 19, "source": "a test", "license": "test only",
                "sha256": sha256_of(folder / "demo-128.safetensors"),
            },
            {
                "name": "ca2sis-celebamask-256", "file": "ca2sis-celebamask-256.pth", "kind": "synthesis",
                "source": "the authors", "license": "theirs", "location": "user", "url": "https://example.org/x",
            },
        ]
    }
    import json

    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(paths, "BUNDLED_MODELS", folder)
    return folder
