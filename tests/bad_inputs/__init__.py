"""A corpus of bad inputs, generated (never committed), and the entry points they are run through.

Categories (one module each): ``images`` (photos: not files, garbage, truncated, corrupt, lying
headers, bombs, foreign formats), ``masks``, ``checkpoints`` (pickles with code, foreign files,
hostile configs), ``projects`` (damaged zips, zip bombs, bad settings and members), and the value
categories in ``values`` (model ``names``, ``devices``, ``outputs`` paths, model ``manifests``).

Entry points are in ``entries`` (command lines in-process and as subprocesses, library functions)
and ``gui`` (the editor's opens and drops). ``tests/test_bad_inputs.py``, ``tests/app/
test_bad_inputs.py`` and ``bench/bad_inputs.py`` run the same corpus; a new entry point inherits
every case of the categories it declares.
"""

from __future__ import annotations

import functools

from tests.bad_inputs.case import Case


@functools.cache
def all_cases() -> tuple[Case, ...]:
    from tests.bad_inputs import checkpoints, images, masks, projects, values

    cases = (*images.cases(), *masks.cases(), *checkpoints.cases(), *projects.cases(), *values.cases())
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    return cases


def cases_of(category: str, slow: bool = True) -> list[Case]:
    return [c for c in all_cases() if c.category == category and (slow or not c.slow)]


__all__ = ["Case", "all_cases", "cases_of"]
