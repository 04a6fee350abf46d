"""Every bad input gets a clear message: no traceback, an answer within 10 s, nothing left behind,
nothing written outside the target (the corpus is in ``tests/bad_inputs``; the editor's half is in
``tests/app/test_bad_inputs.py``).

The default run takes every generated input through the library entry points and a representative
share of each category through every command line, in-process; ``-m slow`` runs the whole cross
product, then the same command lines as child processes. Each test runs one entry point on one
category and lists every input it mishandled.
"""

from __future__ import annotations

import collections

import pytest

from tests.bad_inputs import all_cases
from tests.bad_inputs.entries import ENTRIES, companions
from tests.bad_inputs.harness import Sandbox
from tests.bad_inputs.sweep import SUBPROCESS, cases_for, failures, run_all

PAIRS = [(entry, category) for entry in ENTRIES for category in entry.categories]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return companions(tmp_path_factory.mktemp("companions"))


def test_the_corpus_has_500_inputs_and_every_category_reaches_a_command_line() -> None:
    counts = collections.Counter(c.category for c in all_cases())
    assert len(all_cases()) >= 500
    assert set(counts) == {"images", "masks", "checkpoints", "projects", "names", "devices", "outputs", "manifests"}
    cli_categories = {cat for entry in ENTRIES if entry.kind == "cli" for cat in entry.categories}
    assert cli_categories == set(counts) - {"projects"}  # projects open in the editor only
    every_input = {c.id for entry in ENTRIES if entry.kind == "library" for c in cases_for(entry, full=False)}
    assert every_input == {c.id for c in all_cases() if not c.slow}


@pytest.mark.parametrize(("entry", "category"), PAIRS, ids=[f"{e.name}:{c}" for e, c in PAIRS])
def test_bad_inputs_are_refused_cleanly(entry, category, good, tmp_path) -> None:
    results = run_all([entry], tmp_path, good, full=False, category=category)
    assert results and not failures(results)


@pytest.mark.slow
def test_every_input_through_every_entry_point(good, tmp_path) -> None:
    results = run_all(ENTRIES, tmp_path, good, full=True)
    assert len(results) > 1500
    assert not failures(results)


@pytest.mark.slow
def test_the_command_lines_as_child_processes(good, tmp_path) -> None:
    results = run_all(SUBPROCESS, tmp_path, good, full=True)
    assert not failures(results)


@pytest.mark.parametrize(("command", "case_id"), [("render", "images/fifo"), ("models add", "names/far-parent")])
def test_the_command_line_itself_refuses(command, case_id, good, tmp_path) -> None:
    """Two of the corpus's inputs through ``python main.py`` in a child process (the rest: ``-m slow``)."""
    (entry,) = [e for e in SUBPROCESS if e.name == f"{command} (subprocess)"]
    (case,) = [c for c in all_cases() if c.id == case_id]
    outcome = entry.run(case, Sandbox(tmp_path / "run"), good)
    assert not entry.failures(outcome, case), outcome.message
