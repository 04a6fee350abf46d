"""The bad-input corpus through every entry point: counts per entry point for ``docs/hardening.md``.

    python bench/bad_inputs.py [--json OUT.json] [--subprocess-every N] [--update-doc docs/hardening.md]

Runs every generated input of ``tests/bad_inputs`` (the slow ones included) through every command
line in-process, every library function, and the editor's open paths (offscreen), then a share of
the command lines as child processes (every N-th case of each category; 1: all). For each entry
point: cases, refused and accepted inputs, tracebacks, hangs (no answer within 10 s), runs that left
files behind, runs that wrote outside their target, refused files that changed the editor's document,
other problems (a bad input accepted, a refusal without a message, a dishonest count), and the
slowest answer. ``--update-doc`` rewrites the table between the markers in that file.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

MARK_START, MARK_END = "<!-- bad-inputs table: start -->", "<!-- bad-inputs table: end -->"


def cpu_flags() -> str:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    return "AVX-512 BF16" if "avx512_bf16" in flags else "AVX2" if "avx2" in flags else platform.machine()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", type=Path, help="write the counts and every failure here")
    p.add_argument("--subprocess-every", type=int, default=8, help="child processes for every N-th case (0: none)")
    p.add_argument("--update-doc", type=Path, help="rewrite the table between the markers in this Markdown file")
    args = p.parse_args(argv)

    import torch
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="ca2sis-bad-inputs-"))
    os.environ["CA2SIS_APP_DATA"] = str(work / "appdata")
    os.environ["CA2SIS_MODELS"] = str(work / "models")

    from tests.bad_inputs import all_cases
    from tests.bad_inputs.entries import ENTRIES, companions
    from tests.bad_inputs.gui import EditorUnderTest, gui_entries
    from tests.bad_inputs.sweep import SUBPROCESS, failures, markdown, run_all, startup_seconds, summary

    good = companions(work / "companions")
    editor = functools.cache(EditorUnderTest)
    start = time.monotonic()

    def progress(entry, case, outcome) -> None:
        if entry.failures(outcome, case):
            print(f"  {entry.name}: {case.id}: {entry.failures(outcome, case)}", file=sys.stderr)

    results = run_all([*ENTRIES, *gui_entries(editor)], work, good, full=True, progress=progress)
    if args.subprocess_every:
        results += run_all(SUBPROCESS, work, good, full=True, progress=progress, every=args.subprocess_every)
    app.processEvents()
    table = summary(results)
    text = markdown(table)
    print(text)
    bad = failures(results)
    seconds = time.monotonic() - start
    startup = startup_seconds() if args.subprocess_every else None
    print(f"\n{len(all_cases())} generated inputs, {len(results)} runs, {len(bad)} mishandled, {seconds:.0f} s "
          f"({cpu_flags()}, shared machine)" + (f"; a child process takes {startup:.1f} s to start and import "
                                                "torch, on top of its answer" if startup else ""))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "inputs": len(all_cases()), "runs": len(results), "seconds": round(seconds, 1), "cpu": cpu_flags(),
            "subprocess_every": args.subprocess_every, "child_startup_s": startup, "per_entry_point": table,
            "failures": bad,
            "categories": {c: sum(1 for x in all_cases() if x.category == c) for c in
                           dict.fromkeys(x.category for x in all_cases())},
        }, indent=1) + "\n")
    if args.update_doc:
        doc = args.update_doc.read_text()
        head, rest = doc.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        args.update_doc.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{tail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
