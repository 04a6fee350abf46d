"""Autosave and crash recovery.

While a document has unsaved changes, the main window writes it every few seconds to
``<app data>/autosave/<pid>-<name>.ca2sis`` (atomically, like any project). A clean exit, a save or a
discard removes that file, so a file whose process is no longer running is what a crash left
behind, and the next start offers to recover it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from app.document import Document
from app.project_io import SUFFIX, ProjectError, from_bytes, save_project
from ca2sis.classes import ClassTable


def app_data_dir() -> Path:
    """``$CA2SIS_APP_DATA``, else the platform's per-user data folder for the editor."""
    env = os.environ.get("CA2SIS_APP_DATA")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ca2sis" / "studio"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ca2sis" / "studio"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or we cannot tell: leave it alone
    return True


@dataclass
class Autosaver:
    folder: Path

    @staticmethod
    def default() -> Autosaver:
        return Autosaver(app_data_dir() / "autosave")

    def path_for(self, doc: Document) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", doc.name)[:60] or "untitled"
        return self.folder / f"{os.getpid()}-{safe}{SUFFIX}"

    def save(self, doc: Document) -> Path:
        self.discard_own()  # the name may have changed since the last autosave
        return save_project(doc, self.path_for(doc), mark_clean=False)

    def discard_own(self) -> None:
        if self.folder.is_dir():
            for f in self.folder.glob(f"{os.getpid()}-*{SUFFIX}"):
                f.unlink(missing_ok=True)

    def recover(self, path: Path, classes: ClassTable) -> Document:
        """The document an autosave holds, under the name it had: the file name also carries the
        process id of the editor that wrote it, which means nothing to the person recovering their work."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from exc
        doc = from_bytes(data, classes)  # its name is the one stored inside, not the file's
        doc.path = None
        return doc

    def orphans(self) -> list[Path]:
        """Autosaves left by processes that are gone: candidates for recovery, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for f in self.folder.glob(f"*{SUFFIX}"):
            pid = f.name.split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                found.append(f)
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
