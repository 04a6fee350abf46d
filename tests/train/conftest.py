from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch

from ca2sis.data.synthetic import write_synthetic_pairs
from ca2sis.train.config import TrainConfig


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine is shared: tiny models gain nothing from more threads.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-data")
    write_synthetic_pairs(root, count=6, size=36, seed=1)
    return root


def tiny_config(data: Path, **changes: object) -> TrainConfig:
    base = dict(
        data=str(data),
        preset="tiny",
        perceptual="off",
        workers=0,
        max_steps=2,
        log_every=1,
        image_every=1000,
        checkpoint_every=1000,
        val_batch=2,
    )
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained_generator(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generator file after one training step, for runs that continue a trained generator."""
    from ca2sis.config import preset
    from ca2sis.train.loop import Trainer

    out = tmp_path_factory.mktemp("source")
    torch.set_num_threads(1)
    Trainer(tiny_config(tiny_data, max_steps=1), preset("tiny"), out).train()
    return out / "generator.safetensors"


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def load_script(path: Path) -> ModuleType:
    """A script that is not part of the package (``docs/demo/*.py``, ``bench/*.py``), imported by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
