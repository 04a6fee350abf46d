"""Command-line front ends; each module has ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

from collections.abc import Iterable


def metadata_pairs(items: Iterable[str], reserved: Iterable[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` options as metadata entries; a ValueError names the first one that has no ``=``,
    an empty key, or a key the file's own metadata uses (``reserved``)."""
    taken, pairs = set(reserved), {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or key.strip() in taken:
            raise ValueError(f"--set takes KEY=VALUE with a key of your own, not {item!r}")
        pairs[key.strip()] = value
    return pairs
