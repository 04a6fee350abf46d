"""``docs/demo/unmix_ema.py``: an EMA export minus its starting generator gives the run's own average."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ca2sis.checkpoint import load_model, read_metadata, save_model
from ca2sis.config import preset
from ca2sis.model import CA2SIS
from ca2sis.train.ema import start_share

from .conftest import load_script

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "demo" / "unmix_ema.py"


def _script():
    return load_script(SCRIPT)


def _model(seed: int) -> CA2SIS:
    torch.manual_seed(seed)
    return CA2SIS(preset("tiny"))


def test_it_recovers_the_trained_average_and_keeps_the_other_modules(tmp_path: Path) -> None:
    start, average = _model(0), _model(1)
    share = start_share(0.9, 3, 1, 10)
    mixed = _model(2)  # its style encoder and mapping network stand for modules the formula leaves alone
    state = mixed.state_dict()
    for key, value in average.state_dict().items():
        if key.split(".")[0] in ("generator", "mask_embedder") and value.is_floating_point():
            state[key] = share * start.state_dict()[key] + (1 - share) * value
    mixed.load_state_dict(state)
    save_model(tmp_path / "mixed.safetensors", mixed, {"source": "a GPU run", "step": "10", "history": "[]"})
    save_model(tmp_path / "start.safetensors", start, {"source": "v0"})
    out = tmp_path / "average.safetensors"
    argv = ["--mixed", str(tmp_path / "mixed.safetensors"), "--start", str(tmp_path / "start.safetensors"),
            "--ema-beta", "0.9", "--ema-start", "3", "--last-step", "10", "--out", str(out)]
    assert _script().main(argv) == 0
    got, _, _ = load_model(out)
    for key, value in got.state_dict().items():
        module = key.split(".")[0]
        expected = (average if module in ("generator", "mask_embedder") else mixed).state_dict()[key]
        assert torch.allclose(value, expected, atol=1e-5), key
    meta = read_metadata(out)
    assert json.loads(meta["history"]) == [{"source": "a GPU run", "step": "10"}]
    assert "0.4783" in meta["source"]  # 0.9 ** 7, the share it removed


def test_a_share_near_one_is_refused() -> None:
    state = {"generator.w": torch.ones(2)}
    with pytest.raises(ValueError, match="share"):
        _script().unmix(state, state, 0.99)


def test_a_start_file_without_the_weights_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks 1 weights"):
        _script().unmix({"generator.w": torch.ones(2)}, {}, 0.5)


def test_it_never_writes_over_an_input(tmp_path: Path) -> None:
    path = tmp_path / "mixed.safetensors"
    save_model(path, _model(0), {})
    with pytest.raises(SystemExit):
        _script().main(["--mixed", str(path), "--start", str(path), "--share", "0.5", "--out", str(path)])
