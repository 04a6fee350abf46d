"""OpenCV and facexlib beside PySide6: the app must start after they are imported.

opencv-python's wheel points Qt at its own xcb plugin; ``ca2sis.photo`` undoes that on import. Each
check runs in a fresh interpreter so the import order is the one a user gets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, tmp_path: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CA2SIS_MODELS=str(tmp_path / "models"),
               CA2SIS_APP_DATA=str(tmp_path / "appdata"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.gui
def test_qt_widgets_work_after_cv2_and_facexlib(tmp_path):
    code = """
import os
import ca2sis.photo.portrait, ca2sis.parsing.backends, ca2sis.parsing.facexlib_models
import cv2, facexlib
from facexlib.parsing.bisenet import BiSeNet
assert 'cv2' not in os.environ.get('QT_QPA_PLATFORM_PLUGIN_PATH', ''), os.environ['QT_QPA_PLATFORM_PLUGIN_PATH']
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel('parsed'); label.show(); app.processEvents()
print('OK', app.platformName())
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "OK offscreen" in result.stdout


@pytest.mark.gui
@pytest.mark.slow
def test_the_app_starts_after_cv2_and_facexlib(tmp_path):
    shot = tmp_path / "shot.png"
    code = f"""
import sys
import cv2, facexlib
import ca2sis.photo.portrait
sys.argv = ['main.py']
from app.launch import main
sys.exit(main(['--screenshot', {str(shot)!r}, '--timeout', '120']))
"""
    result = run_python(code, tmp_path, timeout=200)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file()
