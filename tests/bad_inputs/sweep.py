"""Running the corpus: which cases each entry point gets, the same command lines as child processes,
and the counts per entry point that ``docs/hardening.md`` reports (``bench/bad_inputs.py``)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from tests.bad_inputs import all_cases
from tests.bad_inputs.case import Case
from tests.bad_inputs.entries import CLI, Companions, Entry
from tests.bad_inputs.harness import LIMIT_S, TRACEBACK, Outcome, Sandbox, last_line, run_case

ROOT = Path(__file__).resolve().parents[2]
# In the default test run each entry point takes every n-th case of each category (all of them in the
# slow run and the bench). Every input still runs by default: the library entries take them all.
EVERY = {"cli": 5, "subprocess": 0, "library": 1, "gui": 4}
# Child processes start Python and torch each time (seconds): even the slow run takes a share.
SUBPROCESS_EVERY = 8


def cases_for(entry: Entry, full: bool, every: int | None = None) -> list[Case]:
    taken = [c for c in all_cases() if entry.takes(c) and (full or not c.slow)]
    if every is None:
        every = (SUBPROCESS_EVERY if entry.kind == "subprocess" else 1) if full else EVERY.get(entry.kind, 1)
        every *= entry.share if not full else 1
    if every == 1:
        return taken
    if every == 0:
        return []
    picked = []
    for category in entry.categories:  # a few of each category, spread over its families
        of_category = [c for c in taken if c.category == category]
        picked += of_category[len(entry.name) % every :: every]
    return picked


@functools.cache
def startup_seconds() -> float:
    """How long Python takes to start and import what a command imports (torch): a child process gets
    one and a half times this on top of the 10 s (the machine is shared: start-up times vary)."""
    code = "import main, ca2sis.editor, ca2sis.evaluate, ca2sis.parsing.backends, ca2sis.weights"
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT,
                   env=child_env(Path(os.environ.get("TMPDIR", "/tmp"))), timeout=120)
    return time.monotonic() - start


def child_env(models: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen",
                CA2SIS_MODELS=str(models))


def as_subprocess(entry: Entry) -> Entry:
    """The same command line, run as ``python main.py ...`` in a child process with a time limit."""

    def call(argv: list[str]) -> tuple[bool, str]:
        limit = LIMIT_S + 1.5 * startup_seconds()
        try:
            done = subprocess.run([sys.executable, str(ROOT / "main.py"), *argv], capture_output=True, text=True,
                                  timeout=limit, env=child_env(Path(os.environ["CA2SIS_MODELS"])),
                                  cwd=os.environ.get("CA2SIS_APP_DATA", "/tmp"))
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"no answer within {limit:.0f} s") from None
        text = done.stdout + done.stderr
        message = text[text.index(TRACEBACK):][-2000:] if TRACEBACK in text else last_line(done.stderr or done.stdout)
        return done.returncode != 0, message

    def run(case: Case, box: Sandbox, good: Companions) -> Outcome:
        def prepare(value: Path | str) -> list[str]:
            return entry.argv(case, box, good, value)  # type: ignore[misc]

        (box.root / "appdata").mkdir(exist_ok=True)
        check = (lambda o: entry.check(case, box, o)) if entry.check else None
        outcome = run_case(f"{entry.name} (subprocess)", case, box, call, _allowed(entry, box), check, prepare,
                           LIMIT_S + 1.5 * startup_seconds())
        if outcome.traceback and outcome.message.startswith("TimeoutError"):
            outcome.traceback, outcome.hang = False, True
        return outcome

    def takes(case: Case) -> bool:  # a command line cannot carry a NUL byte
        return "nul" not in case.name and "\\x00" not in case.name

    return Entry(f"{entry.name} (subprocess)", entry.categories, run, "subprocess", entry.argv,
                 entry.skip | {c.id for c in all_cases() if not takes(c)}, entry.lenient, check=entry.check)


def _allowed(entry: Entry, box: Sandbox) -> tuple[Path, ...]:
    return (box.models,) if entry.name.startswith("models add") else (box.out,)


SUBPROCESS = [as_subprocess(e) for e in CLI]


def run_all(entries: Iterable[Entry], root: Path, good: Companions, full: bool, progress=None,
            category: str | None = None, every: int | None = None) -> list[tuple[Entry, Case, Outcome]]:
    import torch

    results = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models and refusals: a second thread only competes (a shared machine)
    try:
        _run(entries, root, good, full, progress, category, every, results)
    finally:
        torch.set_num_threads(threads)
    return results


def _run(entries, root, good, full, progress, category, every, results) -> None:
    for entry in entries:
        for case in cases_for(entry, full, every):
            if category is not None and case.category != category:
                continue
            box = Sandbox(root / "run")
            try:
                outcome = entry.run(case, box, good)
            finally:
                shutil.rmtree(box.root, ignore_errors=True)
            results.append((entry, case, outcome))
            if progress is not None:
                progress(entry, case, outcome)


COLUMNS = ("cases", "refused", "accepted", "tracebacks", "hangs", "left behind", "outside target",
           "document changed", "other problems", "slowest s")


def summary(results: list[tuple[Entry, Case, Outcome]]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for entry, case, o in results:
        row = table.setdefault(entry.name, dict.fromkeys(COLUMNS, 0))
        failures = entry.failures(o, case)
        row["cases"] += 1
        row["refused" if o.refused else "accepted"] += 1
        row["tracebacks"] += o.traceback
        row["hangs"] += o.hang
        row["left behind"] += bool(o.leftovers)
        row["outside target"] += bool(o.escapes)
        row["document changed"] += o.doc_changed
        row["other problems"] += bool(o.problems) or any(f.startswith(("accepted", "refused without"))
                                                         for f in failures)
        row["slowest s"] = round(max(row["slowest s"], o.seconds), 2)
    return table


def failures(results: list[tuple[Entry, Case, Outcome]]) -> list[str]:
    """One line per mishandled input: entry point, case, what went wrong, what it said."""
    return [f"{entry.name}: {case.id}: {'; '.join(map(str, entry.failures(o, case)))} ({o.message[:200]!r})"
            for entry, case, o in results if entry.failures(o, case)]


def markdown(table: dict[str, dict[str, float]]) -> str:
    head = "| entry point | " + " | ".join(COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    rows = [f"| {name} | " + " | ".join(f"{row[c]:g}" for c in COLUMNS) + " |" for name, row in table.items()]
    totals = {c: (max if c == "slowest s" else sum)(row[c] for row in table.values()) for c in COLUMNS}
    rows.append("| **all** | " + " | ".join(f"**{totals[c]:g}**" for c in COLUMNS) + " |")
    return "\n".join([head, rule, *rows])
