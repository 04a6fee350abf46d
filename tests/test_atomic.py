"""Atomic writes: the old file survives a failed write, and new files get ordinary permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ca2sis.atomic import atomic_write, atomic_write_bytes, atomic_write_json


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "a.bin", b"old")

    def half_then_full_disk(tmp: Path) -> None:
        tmp.write_bytes(b"ne")
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, half_then_full_disk)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_new_files_are_as_readable_as_with_open(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = atomic_write_json(tmp_path / "sub" / "a.json", {"é": 1})
    assert written.read_text(encoding="utf-8") == '{\n  "é": 1\n}\n'
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
