"""``docs/make_fit_figure.py``: a folder without faces is refused with a message, before any model loads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "make_fit_figure.py"


def test_a_folder_without_faces_is_refused_with_what_was_expected(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("make_fit_figure", SCRIPT)
    script = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(script)  # type: ignore[union-attr]
    (tmp_path / "labels").mkdir()  # a split's layout: images/ + labels/, not the masks/ this script reads
    with pytest.raises(SystemExit) as exit_:
        script.main(["--data", str(tmp_path), "--weights", str(tmp_path / "never-loaded.safetensors")])
    assert exit_.value.code == 2
    message = capsys.readouterr().err
    assert "no faces in" in message and "masks/*.png" in message
