"""``docs/demo/export_model.py``: the exported file says how it was trained, and what it continued from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ca2sis.checkpoint import read_metadata, save_model
from ca2sis.config import preset
from ca2sis.model import CA2SIS
from ca2sis.train.loop import Trainer

from .conftest import load_script, tiny_config

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "demo" / "export_model.py"


def _export_module():
    return load_script(SCRIPT)


def test_a_refined_run_exports_its_recipe_and_the_history_it_replaces(tiny_data: Path, tmp_path: Path) -> None:
    bundled = tmp_path / "demo.safetensors"
    save_model(bundled, CA2SIS(preset("tiny")), {"source": "trained by CA2SIS Studio: earlier recipe", "step": "4700"})
    run = tmp_path / "run"
    cfg = tiny_config(tiny_data, init_generator=str(bundled), style_encoder_only=True, lambda_gan=0.0,
                      lambda_feat=0.0, lambda_l1=10.0, max_steps=1)
    Trainer(cfg, preset("tiny"), run).train()
    (run / "config.json").write_text(json.dumps({"train": cfg.to_dict()}))  # what `main.py train` writes beside it
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"models": [{"name": "demo-128", "sha256": ""}]}))
    # Export over the very file the run started from, as a refreshed bundled model does.
    args = ["--main-run", str(run), "--out", str(bundled), "--manifest", str(manifest)]
    assert _export_module().main([*args, "--set", "schedule_note=stopped by its time limit"]) == 0
    meta = read_metadata(bundled)
    assert "--style-encoder-only" in meta["source"] and "--lambda-gan 0.0" in meta["source"]
    assert meta["continued_from_source"] == "trained by CA2SIS Studio: earlier recipe"
    assert meta["continued_from_step"] == "4700"
    assert "--epochs 50 --epochs-decay 50" in meta["source"] and meta["schedule_note"] == "stopped by its time limit"
    assert json.loads(meta["history"]) == [{"source": "trained by CA2SIS Studio: earlier recipe", "step": "4700"}]
    assert json.loads(manifest.read_text())["models"][0]["sha256"]


def test_a_second_continuation_keeps_every_earlier_stage_and_reserved_keys_are_refused(
    tiny_data: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.safetensors"
    save_model(first, CA2SIS(preset("tiny")), {"source": "stage one", "step": "10", "history": json.dumps(
        [{"source": "stage zero", "step": "5"}])})
    run = tmp_path / "run"
    cfg = tiny_config(tiny_data, init_generator=str(first), max_steps=1)
    Trainer(cfg, preset("tiny"), run).train()
    (run / "config.json").write_text(json.dumps({"train": cfg.to_dict()}))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"models": [{"name": "demo-128", "sha256": ""}]}))
    out = tmp_path / "out.safetensors"
    args = ["--main-run", str(run), "--out", str(out), "--manifest", str(manifest)]
    assert _export_module().main(args) == 0
    assert [s["source"] for s in json.loads(read_metadata(out)["history"])] == ["stage zero", "stage one"]
    with pytest.raises(SystemExit):
        _export_module().main([*args, "--set", "ca2sis.config={}"])


def test_a_recipe_with_a_list_of_classes_reads_as_the_command_that_trains_it() -> None:
    recipe = _export_module()._recipe(
        {"preset": "demo-128", "lambda_texture": 300.0, "texture_classes": ["hair", "l_brow"], "ema": True}, "main")
    assert recipe == "python main.py train --preset demo-128 --ema --lambda-texture 300.0 --texture-classes hair,l_brow"
