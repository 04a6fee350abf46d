"""Atomic file writes: a file is either its old self or completely new, never half-written.

Everything the program saves (weights, checkpoints, manifests, images, masks, projects) goes through
:func:`atomic_write`: the content is written to a temporary file in the same folder, flushed to disk,
and moved over the target with ``os.replace``. A full disk or a kill mid-save leaves the previous
file untouched and no temporary file behind. The new file gets the permissions ``open()`` would
give it (0666 less the process's umask, e.g. 0644), not the private 0600 of a temporary file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open()`` gives a new file now: 0666 less the umask (read when asked: it may change)."""
    return 0o666 & ~_umask()


def atomic_write(path: str | Path, write: Callable[[Path], None], fsync: bool = True, suffix: str = ".tmp") -> Path:
    """Call ``write(tmp_path)`` to produce the content, then move it over ``path``.

    ``suffix`` ends the temporary file's name, for writers that choose the format by it (ffmpeg).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_json(path: str | Path, data: Any, **dump_options: Any) -> Path:
    options = {"indent": 2, "ensure_ascii": False} | dump_options
    text = json.dumps(data, **options) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
