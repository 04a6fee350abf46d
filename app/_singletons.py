"""Work around PySide6 builds that treat None, True and False as immortal on Python < 3.12.

Python 3.12 made these singletons immortal, and some PySide6 releases (6.12 seen) rely on it: every
call of a void Qt method releases a reference to None it never took (and emitting a bool releases
one to True/False). On Python 3.11 the count eventually reaches zero and the interpreter aborts
("deallocating None"), while editing or at exit. Giving the singletons a huge reference count restores
what 3.12 guarantees; it changes nothing else, because they are never freed anyway.
"""

from __future__ import annotations

import sys

_done = False


def make_singletons_immortal() -> None:
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40  # ob_refcnt is the first field
    _done = True
