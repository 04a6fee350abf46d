"""The fit's exceptions (torch-free, so the app can catch them without importing the model)."""

from __future__ import annotations


class FitCancelled(Exception):
    """The fit was cancelled; nothing was registered."""


class FitFileError(ValueError):
    """Fit bytes that cannot be read; the message says what is wrong."""


class FitMismatch(ValueError):
    """A fit made with another model (or for another face) than the one it is used with."""
