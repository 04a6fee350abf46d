"""Every export gets the permissions a plain ``open()`` would give it under the user's umask."""

import os

import pytest

from app.document import PhotoContext
from ca2sis.requests import StyleSource

pytestmark = pytest.mark.gui


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_every_export_format_respects_the_umask(loaded, tmp_path, qtbot, umask):
    pytest.importorskip("imageio_ffmpeg")
    files, doc = loaded.files, loaded.doc
    doc.context = PhotoContext(doc.face.copy())  # the face was the whole photo: "export into photo" works
    doc.set_style(13, StyleSource("random", seed=1))
    loaded.tools.current_class = 13
    loaded.worker.wait_until_idle(5)
    assert files.export_image(tmp_path / "face.png") and files.export_image(tmp_path / "face.jpg")
    assert files.export_mask(tmp_path / "mask.png") and files.export_pasted(tmp_path / "full.png")
    assert files.save(tmp_path / "project.ca2sis")
    for name in ("anim.gif", "anim.mp4"):
        assert files.export_animation(tmp_path / name, kind="style", frames=2)
        loaded.worker.wait_until_idle(30)
        qtbot.waitUntil(lambda n=name: (tmp_path / n).exists(), timeout=30000)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["anim.gif", "anim.mp4", "face.jpg", "face.png", "full.png", "mask-colour.png", "mask.png",
                       "project.ca2sis"]  # and no temporary file left behind
    modes = {name: (tmp_path / name).stat().st_mode & 0o777 for name in written}
    assert modes == dict.fromkeys(written, 0o666 & ~umask)  # 0644 under umask 022, 0640 under 027
