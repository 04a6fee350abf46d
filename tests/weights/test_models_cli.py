"""``main.py models``: listing with download steps, verifying, registering."""

from __future__ import annotations

from pathlib import Path

from main import main


def test_the_listing_shows_installed_and_missing_models_with_where_to_get_them(bundled_dir: Path, capsys) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "demo-128" in out and "installed" in out and "*default*" in out
    assert "ca2sis-celebamask-256" in out and "MISSING" in out and "https://example.org/x" in out


def test_the_real_listing_names_every_download(capsys) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for url_part in ("parsing_parsenet.pth", "parsing_bisenet.pth", "detection_Resnet50_Final.pth",
                     "download.pytorch.org/models/vgg19-dcbb9e9d.pth", "sharepoint.com", "models add"):
        assert url_part in out


def test_verify_passes_intact_files_and_fails_a_damaged_one(bundled_dir: Path, capsys) -> None:
    assert main(["models", "verify"]) == 0
    assert "ok   demo-128" in capsys.readouterr().out
    (bundled_dir / "demo-128.safetensors").write_bytes(b"truncated")
    assert main(["models", "verify", "demo-128"]) == 1
    assert "FAIL demo-128" in capsys.readouterr().out


def test_add_registers_a_checkpoint_and_refuses_junk(bundled_dir: Path, tiny_weights: Path, tmp_path: Path,
                                                     capsys) -> None:
    assert main(["models", "add", str(tiny_weights), "--name", "mine", "--default"]) == 0
    out = capsys.readouterr().out
    assert "registered 'mine'" in out and "now the default" in out
    junk = tmp_path / "junk.pth"
    junk.write_text("junk")
    assert main(["models", "add", str(junk)]) == 2
    assert "does not load" in capsys.readouterr().err


def test_a_name_that_would_leave_the_models_folder_is_refused_and_nothing_is_written(
        bundled_dir: Path, tiny_weights: Path, tmp_path: Path, capsys) -> None:
    from ca2sis.paths import user_models_dir

    models = user_models_dir(create=True)
    nested = tmp_path / "a" / "b"
    for name in ("../../../somewhere/x", "", "a/b", "..", "con"):
        assert main(["models", "add", str(tiny_weights), "--name", name]) == 2
        assert "cannot name a model" in capsys.readouterr().err
    assert list(models.iterdir()) == [] and not nested.exists()
    assert not (models.parent / "somewhere").exists() and not (models.parents[1] / "somewhere").exists()


def test_a_bad_manifest_entry_is_named_and_the_rest_keeps_working(bundled_dir: Path, tiny_weights: Path,
                                                                  capsys) -> None:
    import json

    from ca2sis.paths import user_models_dir

    manifest = user_models_dir(create=True) / "manifest.json"
    nameless = {"name": "", "file": ".safetensors", "kind": "synthesis", "source": "x", "license": "x"}
    manifest.write_text(json.dumps({"models": [nameless]}))
    assert main(["models"]) == 0
    captured = capsys.readouterr()
    assert "demo-128" in captured.out and "'' cannot name a model" in captured.err and "ignored" in captured.err
    assert main(["models", "add", str(tiny_weights), "--name", "mine"]) == 0
    names = [m.get("name") for m in json.loads(manifest.read_text())["models"]]
    assert names == ["", "mine"]  # the user's bad entry is kept as it was, for them to fix
    assert main(["models"]) == 0 and "mine" in capsys.readouterr().out
