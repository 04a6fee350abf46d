"""The model manager: checksums, registration of the authors' checkpoint, defaults and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ca2sis import checkpoint, weights
from ca2sis.paths import user_models_dir


def test_a_model_loads_by_name_after_its_checksum_is_checked(bundled_dir: Path) -> None:
    editor = weights.load_editor("demo-128", device="cpu")
    assert editor.resolution == 32


def test_a_checksum_mismatch_is_refused_with_a_clear_message(bundled_dir: Path) -> None:
    with (bundled_dir / "demo-128.safetensors").open("r+b") as f:  # one flipped byte near the end
        f.seek(-3, 2)
        byte = f.read(1)
        f.seek(-3, 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(weights.ChecksumMismatch, match="demo-128.*damaged or was replaced"):
        weights.verify("demo-128", progress=False)
    with pytest.raises(weights.ChecksumMismatch):
        weights.load_editor("demo-128", device="cpu")


def test_an_unknown_or_missing_model_names_what_is_known_and_how_to_get_it(bundled_dir: Path) -> None:
    with pytest.raises(weights.ModelError, match="no model named 'nope'.*demo-128"):
        weights.model_path("nope")
    with pytest.raises(weights.ModelError, match="not installed.*example.org"):
        weights.model_path("ca2sis-celebamask-256")


def test_registering_our_own_checkpoint_adds_it_without_changing_the_default(
    bundled_dir: Path, tiny_weights: Path
) -> None:
    entry = weights.register_model(tiny_weights)
    assert entry.name == "tiny" and entry.preset == "tiny" and entry.location == "user"
    assert weights.model_path("tiny") == user_models_dir() / "tiny.safetensors"
    assert tiny_weights.is_file(), "the user's own file is left where it was"
    assert weights.default_model() == bundled_dir / "demo-128.safetensors"
    weights.verify("tiny", progress=False)
    weights.register_model(tiny_weights, name="mine", make_default=True)
    assert weights.default_model() == user_models_dir() / "mine.safetensors"


def test_the_authors_checkpoint_becomes_the_default_once_registered(
    bundled_dir: Path, tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    official = tmp_path / "download" / "latest_net_G.pth"
    official.parent.mkdir()
    official.write_bytes(b"stand-in for the authors' file")
    real_load = checkpoint.load_model

    def fake_load(path, device="cpu"):  # the real authors' file is 300+ MB; its loading is tested elsewhere
        model, config, _ = real_load(tiny_weights)
        return model, config, {"source": "authors' release"}

    monkeypatch.setattr(checkpoint, "load_model", fake_load)
    entry = weights.register_model(official)
    assert entry.name == weights.AUTHORS
    assert weights.default_model() == user_models_dir() / "ca2sis-celebamask-256.pth"
    manifest = json.loads((user_models_dir() / "manifest.json").read_text())
    assert manifest["default"] == weights.AUTHORS
    assert [m["name"] for m in manifest["models"]] == [weights.AUTHORS]


def test_a_file_that_is_not_a_model_is_refused_and_nothing_is_written(bundled_dir: Path, tmp_path: Path) -> None:
    junk = tmp_path / "latest_net_G.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(weights.ModelError, match="does not load"):
        weights.register_model(junk)
    with pytest.raises(weights.ModelError, match="no such file"):
        weights.register_model(tmp_path / "absent.pth")
    assert not (user_models_dir() / "manifest.json").exists()


def test_a_bundled_name_cannot_be_taken_by_a_registration(bundled_dir: Path, tiny_weights: Path) -> None:
    with pytest.raises(weights.ModelError, match="belongs to a bundled model"):
        weights.register_model(tiny_weights, name="demo-128")


def test_a_damaged_user_manifest_is_reported_but_the_app_still_finds_a_model(bundled_dir: Path) -> None:
    user_models_dir(create=True).joinpath("manifest.json").write_text("{ not json")
    with pytest.raises(weights.ModelError, match="not a readable model manifest"):
        weights.list_models()
    assert weights.default_model() == bundled_dir / "demo-128.safetensors"
