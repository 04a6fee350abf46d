"""``main.py evaluate`` with bad input: an unreadable sample is skipped and not counted; a report
that cannot be written is refused before the evaluation starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main as entry
from ca2sis.checkpoint import save_model
from ca2sis.config import preset
from ca2sis.model import CA2SIS


def test_an_unreadable_sample_is_skipped_and_not_counted(tiny_data: Path, tmp_path: Path, capsys) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    images = sorted((data / "images").iterdir())
    images[1].write_bytes(images[1].read_bytes()[:40])  # a truncated photo
    weights = tmp_path / "g.safetensors"
    save_model(weights, CA2SIS(preset("tiny")))
    out = tmp_path / "eval.json"
    code = entry.main(["evaluate", "--weights", str(weights), "--data", str(data), "--json", str(out),
                       "--max-images", "3", "--device", "cpu", "--fid", "off", "--parser", "off"])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["images"] == 2  # of the first three, the readable ones; the next one does not stand in
    assert [s["name"] for s in report["skipped"]] == [images[1].stem]
    assert "1 unreadable skipped" in capsys.readouterr().out


def test_a_report_that_cannot_be_written_is_refused_before_the_evaluation(tiny_data: Path, tmp_path: Path,
                                                                          capsys, monkeypatch) -> None:
    import ca2sis.evaluate

    monkeypatch.setattr(ca2sis.evaluate, "evaluate", lambda cfg: pytest.fail("the evaluation ran"))
    weights = tmp_path / "g.safetensors"
    save_model(weights, CA2SIS(preset("tiny")))
    for target in ("/proc/x.json", str(tmp_path)):
        assert entry.main(["evaluate", "--weights", str(weights), "--data", str(tiny_data), "--json", target]) == 2
        assert target in capsys.readouterr().err
