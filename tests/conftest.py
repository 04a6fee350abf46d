"""Test-wide setup: Qt runs offscreen and the editor's settings and app data live in tmp_path.

The environment is set before any test module imports Qt, so no test ever opens a real window or
touches the developer's own settings, autosaves or models folder.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("CA2SIS_APP_DATA", str(home / "appdata"))
    monkeypatch.setenv("CA2SIS_MODELS", str(home / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # library-only environments never need it
        yield home
        return
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(home / "settings"))
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(home / "settings"))
    yield home


@pytest.fixture
def shared_data():
    """The shared CelebAMask-HQ pairs (skips the test where they are absent, as on a user's machine)."""
    from tests.shared_data import CELEBAMASK_MINI, require

    return require(CELEBAMASK_MINI / "images").parent
