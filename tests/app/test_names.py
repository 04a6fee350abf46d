"""What the editor calls reference faces: their file names (recovered work: test_window.py)."""

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tests.app.fakes import face_pair

pytestmark = pytest.mark.gui

HASH_NAMED = "25b04011e2d94c1f8b7a6e0c3f2a1b9d.jpg"  # how data sets name their files


def reference_photo(folder: Path, name: str) -> Path:
    image, mask = face_pair()
    path = folder / name
    Image.fromarray(image[:, ::-1].copy()).save(path, quality=95)
    Image.fromarray(mask).save(folder / f"{path.stem}_mask.png")
    return path


@pytest.mark.parametrize("name", ["holiday.png", HASH_NAMED])
def test_a_reference_face_is_listed_by_its_file_name(loaded, tmp_path, qtbot, name):
    doc = loaded.doc
    loaded.files.add_reference(reference_photo(tmp_path, name))
    qtbot.waitUntil(lambda: bool(doc.references), timeout=5000)
    ref = next(iter(doc.references.values()))
    assert ref.name == name
    combo = loaded.style_panel.rows[13].source
    shown = [combo.itemText(i) for i in range(combo.count())]
    gallery = loaded.gallery.list.item(0).text()
    shape = loaded.shape_panel.rows[13].source.itemText(1)
    for text in (shown[-1], gallery, shape):
        assert text.endswith(Path(name).suffix) and text.startswith(name[:5]) and ref.key[:8] not in text
    assert combo.itemData(combo.count() - 1, Qt.ItemDataRole.ToolTipRole) == name  # the whole name
