"""Screenshots of the editor at work, for the README: ``python docs/make_screenshots.py [--weights FILE]``.

Starts the real application (offscreen unless a display is available) and saves one picture of the
whole window into ``docs/screenshots/`` at each step: the welcome state a new user meets
(``00-welcome.png``), then a sample portrait opened and edited (a brush stroke, a reference face's
hair style, the attention map, an A/B strip, a whole-face shape morph, the outline in the mask view
of where a part's shape morph is heading, before/after). With no model installed at all,
``00-first-run.png`` shows that state first.

The portrait and the reference are the bundled sample faces in ``resources/samples/`` (only
redistributable pictures end up in the docs), else generated face-like pictures with their masks.
Without model weights the pictures show the first-run state, which is fine for checking the script
but not for the README.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples"
sys.path.insert(0, str(ROOT))

log = logging.getLogger("screenshots")


def sample_pair(work: Path) -> tuple[Path, Path | None]:
    """(portrait, reference) photo files; each has its mask next to it or in ../masks/."""
    # Only redistributable faces go into the committed pictures: the bundled sample portraits.
    samples = sorted(p for p in SAMPLES.glob("*.png") if not p.stem.endswith("_mask"))
    if len(samples) >= 2:
        return samples[0], samples[1]
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for i, hair in enumerate(((60, 40, 30), (200, 170, 90))):
        yy, xx = np.mgrid[:256, :256]
        mask = np.zeros((256, 256), np.uint8)
        mask[((yy - 150) / 95) ** 2 + ((xx - 128) / 110) ** 2 < 1] = 13  # hair
        mask[((yy - 140) / 80) ** 2 + ((xx - 128) / 62) ** 2 < 1] = 1  # skin
        mask[(((yy - 120) / 7) ** 2 + ((xx - 103) / 13) ** 2) < 1] = 4
        mask[(((yy - 120) / 7) ** 2 + ((xx - 153) / 13) ** 2) < 1] = 5
        mask[175:185, 108:148] = 11
        mask[185:193, 110:146] = 12
        mask[yy > 225] = 18
        colours = {0: (230, 230, 235), 1: (224, 180, 150), 4: (60, 50, 40), 5: (60, 50, 40), 11: (190, 90, 90),
                   12: (170, 70, 70), 13: hair, 18: (40, 60, 120)}
        image = np.zeros((256, 256, 3), np.uint8)
        for cls, colour in colours.items():
            image[mask == cls] = colour
        path = work / f"sample{i}.png"
        Image.fromarray(image).save(path)
        Image.fromarray(mask).save(work / f"sample{i}_mask.png")
        out.append(path)
    return out[0], out[1]


def first_run_screenshot(app, path: Path, size: tuple[int, int]) -> None:
    """The window as a new user sees it before any model is installed."""
    from app.main_window import MainWindow
    from app.services import discover

    win = MainWindow(discover(), interactive=False)
    win.resize(*size)
    win.show()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    win.grab().save(str(path))
    log.info("wrote %s", path)
    win.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, help="model weights (default: the registered model)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    p.add_argument("--size", default="1560x940")
    p.add_argument("--theme", choices=("system", "dark", "light"), default="dark")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each step at most")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from app.launch import build_parser, create_window
    from app.theme import apply_theme, configure_high_dpi
    from ca2sis.requests import ShapeSource, StyleSource

    configure_high_dpi()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, None if args.theme == "system" else args.theme == "dark")
    portrait, reference = sample_pair(Path(tempfile.mkdtemp(prefix="ca2sis-samples-")))
    w, h = (int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    from app.services import discover

    if args.weights is None and discover().default_model() is None:  # what a user without weights sees
        first_run_screenshot(app, args.out / "00-first-run.png", (w, h))
    gui_args = ["--device", args.device]
    if args.weights:
        gui_args += ["--weights", str(args.weights)]
    win = create_window(build_parser().parse_args(gui_args), interactive=False)
    win.resize(w, h)

    def settle(seconds: float = 0.3) -> None:
        deadline = time.monotonic() + args.timeout
        while (win.worker.busy or win.outline.worker.busy) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        win.worker.wait_until_idle(timeout=args.timeout)
        win.outline.worker.wait_until_idle(timeout=args.timeout)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shot(name: str) -> None:
        settle()
        path = args.out / f"{name}.png"
        win.grab().save(str(path))
        log.info("wrote %s", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)

    settle(1.0)
    if win.bridge is None:
        log.warning("no model weights: the screenshots show the first-run state (not for the README)")
    shot("00-welcome")  # what a new user meets: the samples, a photo of their own, or the template face
    win.files.open_photo(portrait)
    settle(1.0)
    shot("01-opened")

    doc, tools = win.doc, win.tools
    # A brush stroke of hair over the forehead, as a user would paint it (one undo step).
    tools.current_class, tools.brush_size = 13, 26
    size = doc.mask.shape[0]
    doc.begin_stroke("Paint Hair")
    from app import mask_ops

    for x in range(int(size * 0.3), int(size * 0.7), 4):
        doc.paint(mask_ops.segment_footprint(doc.mask.shape, (x, size * 0.22), (x + 4, size * 0.2), 13), 13)
    doc.commit_stroke()
    win.schedule_render()
    shot("02-painted")

    # Borrow the reference face's hair and lips; a random style for the eyes.
    win.files.add_reference(reference)
    settle()
    if doc.references:
        key = next(iter(doc.references))
        doc.change_settings({("style", 13): StyleSource("reference", key), ("style", 11): StyleSource("reference", key),
                             ("style", 12): StyleSource("reference", key)}, "Hair and lips from the reference")
        win.docks["references"].raise_()
    shot("03-reference-style")

    # Where does the hair style act? The cross-attention map of the hair class.
    tools.current_class = 13
    win.actions_.attention.setChecked(True)
    doc.set_attention_class(13)
    shot("04-attention")
    doc.set_attention_class(None)
    win.actions_.attention.setChecked(False)

    # A/B strip: six random hair styles side by side.
    win.ab_strip.set_class(13)
    win.ab_strip.request()
    shot("05-ab-strip")

    # Morph the whole face halfway toward the reference's shape.
    if doc.references:
        key = next(iter(doc.references))
        doc.set_shape_all(ShapeSource(key, 0.5))
        win.docks["shapes"].raise_()
    shot("06-shape-morph")

    # Where a part's shape morph is heading, outlined in the mask view before "Apply to mask": the hair
    # toward a face whose hair parts the other way (the mirrored sample, when it is there).
    mirrored = SAMPLES / "generated-2.png"
    if mirrored.exists():
        win.files.add_reference(mirrored)
        settle()
    if doc.references:
        key = list(doc.references)[-1]
        doc.set_shape_all(None)
        tools.current_class = 13
        doc.set_shape(13, ShapeSource(key, 0.8))
        win.shape_panel.rows[13].setFocus()
    shot("08-shape-outline")
    doc.set_shape(13, None)

    # Before / after: the original face in the result pane.
    win.actions_.before_after.setChecked(True)
    win.result.set_show_before(True)
    shot("07-before")
    win.interactive = False
    doc.dirty = False
    win.files.autosaver.discard_own()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
