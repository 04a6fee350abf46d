"""Running one bad input through one entry point, and judging what happened.

Every run gets a fresh sandbox: ``in/`` holds the bad input (and good companions), ``out/`` is where
outputs go, and the user's models folder sits four levels deep so that a name like ``../../x``
that escapes it still lands inside the sandbox, where it is seen. The sandbox is listed before and
after the run; the entry point's ``allowed`` folders may change only when it accepted the input.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bad_inputs.case import MARKER, Case

LIMIT_S = 10.0  # every input is answered within this
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Sandbox:
    root: Path

    def __post_init__(self) -> None:
        for folder in (self.inputs, self.out, self.models):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def inputs(self) -> Path:
        return self.root / "in"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def models(self) -> Path:
        return self.root / "deep" / "a" / "b" / "models"

    def listing(self) -> dict[str, tuple[int, int, int]]:
        """relative path → (file type, size, mtime) of everything in the sandbox, links not followed."""
        found: dict[str, tuple[int, int, int]] = {}

        def walk(folder: Path) -> None:
            with os.scandir(folder) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    folder = entry.is_dir(follow_symlinks=False)
                    # A folder counts by its contents (a probe file created and removed touches its time).
                    found[os.path.relpath(entry.path, self.root)] = (
                        stat.S_IFMT(st.st_mode), 0 if folder else st.st_size, 0 if folder else st.st_mtime_ns)
                    if folder:
                        walk(Path(entry.path))

        walk(self.root)
        return found

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        """The user's folders point into the sandbox while the entry point runs."""
        saved = {k: os.environ.get(k) for k in ("CA2SIS_MODELS", "CA2SIS_APP_DATA")}
        os.environ["CA2SIS_MODELS"] = str(self.models)
        os.environ["CA2SIS_APP_DATA"] = str(self.root / "appdata")
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@dataclass
class Outcome:
    entry: str
    case: str
    refused: bool = False  # the entry point said no: a non-zero exit, an error, the document kept
    message: str = ""  # what it said (the last line)
    traceback: bool = False  # an exception escaped, or a traceback was printed
    hang: bool = False  # not answered within LIMIT_S
    seconds: float = 0.0
    leftovers: list[str] = field(default_factory=list)  # files a refused run left in its target folders
    escapes: list[str] = field(default_factory=list)  # changes outside the target folders; code that ran
    doc_changed: bool = False  # the editor's document changed although the file was refused
    problems: list[str] = field(default_factory=list)  # what else the entry point got wrong

    def failures(self, case: Case, may_accept: bool | None = None) -> list[str]:
        """Everything that is wrong with this outcome; empty when the input was handled well."""
        may_accept = case.valid if may_accept is None else may_accept
        wrong = [f"{label}: {detail}" for label, detail in (
            ("traceback", self.traceback and self.message),
            ("hang", self.hang and f"{self.seconds:.1f} s"),
            ("left behind", self.leftovers),
            ("written outside the target", self.escapes),
            ("document changed", self.doc_changed),
        ) if detail]
        if not may_accept and not self.refused:
            wrong.append("accepted a bad input")
        if self.refused and not self.message.strip():
            wrong.append("refused without a message")
        return wrong + self.problems


def changes(before: dict, after: dict) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def judge(outcome: Outcome, sandbox: Sandbox, before: dict, allowed: tuple[Path, ...]) -> None:
    """Fill in leftovers and escapes from the sandbox's listings."""
    after = sandbox.listing()
    areas = [os.path.relpath(a, sandbox.root) for a in allowed]
    for path in changes(before, after):
        inside = any(path == a or path.startswith(a + os.sep) for a in areas)
        name = Path(path).name
        if name == MARKER:
            outcome.escapes.append(f"{path} (code in the input ran)")
        elif not inside:
            outcome.escapes.append(path)
        elif outcome.refused or name.endswith(".tmp") or name.startswith(".ca2sis-probe"):
            outcome.leftovers.append(path)


def fifos(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_fifo()]


def unblock(root: Path) -> None:
    """A reader stuck on one of the sandbox's pipes gets end-of-file (so a hang ends and is reported)."""
    for pipe in fifos(root):
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))


def bounded(fn: Callable[[], Any], sandbox: Sandbox, limit: float = LIMIT_S) -> tuple[Any, BaseException | None,
                                                                                      float, bool]:
    """``fn()`` → (value, exception, seconds, hung). After ``limit`` the sandbox's pipes are unblocked."""
    fired = threading.Event()

    def rescue() -> None:
        fired.set()
        unblock(sandbox.root)

    timer = threading.Timer(limit, rescue)
    timer.daemon = True
    start = time.monotonic()
    timer.start()
    try:
        value, error = fn(), None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 (what escapes is exactly what we look for)
        value, error = None, exc
    finally:
        timer.cancel()
    seconds = time.monotonic() - start
    return value, error, seconds, fired.is_set() or seconds > limit


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """stdout, stderr and log records of an in-process run, in one buffer."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            yield buf
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("0%|")]
    return lines[-1] if lines else ""


def make_input(case: Case, sandbox: Sandbox) -> Path | str:
    return case.make(sandbox.inputs)


def run_case(entry: str, case: Case, sandbox: Sandbox, call: Callable[[Any], tuple[bool, str]],
             allowed: tuple[Path, ...], check: Callable[[Outcome], None] | None = None,
             prepare: Callable[[Path | str], Any] | None = None, limit: float = LIMIT_S) -> Outcome:
    """Make ``case`` in ``sandbox`` (and ``prepare`` what the call needs: a command line, a manifest in
    place), then ``call(prepared) -> (refused, message)`` bounded in time, and judge what it did."""
    value = make_input(case, sandbox)
    prepared = prepare(value) if prepare is not None else value
    before = sandbox.listing()
    outcome = Outcome(entry, case.id)
    with sandbox.environment():
        result, error, outcome.seconds, outcome.hang = bounded(lambda: call(prepared), sandbox, limit)
    if error is not None:
        outcome.traceback = True
        outcome.refused = True
        outcome.message = f"{type(error).__name__}: {error}"
    else:
        outcome.refused, outcome.message = result
        if TRACEBACK in outcome.message:
            outcome.traceback = True
    judge(outcome, sandbox, before, allowed)
    if check is not None:
        check(outcome)
    return outcome


def python_main(argv: list[str]) -> tuple[bool, str]:
    """``main.py ARGV`` in this process: (refused, what it printed last)."""
    import main

    with captured() as buf:
        try:
            code = main.main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
            if not isinstance(exc.code, int | None):
                print(exc.code, file=sys.stderr)
    text = buf.getvalue()
    message = last_line(text)
    if TRACEBACK in text:
        message = text[text.index(TRACEBACK):][-2000:]
    return code not in (0, None), message
