"""Starting the editor: ``python main.py [--open PHOTO] [--weights FILE] [--device D] [--screenshot OUT]``.

``--screenshot`` is the app's own smoke test: it opens the real window, loads the model, opens the
photo (detection, alignment, parsing), waits for the first render, saves a picture of the whole
window and exits: 0 when everything worked (the first-run state without a model counts as working),
1 when a step failed (the screenshot is still written). A time limit keeps it from ever hanging.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("ca2sis.app")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description="CA2SIS Studio: edit faces with (CA)²-SIS.")
    p.add_argument("--open", metavar="FILE", type=Path, help="a photo, a mask PNG or a .ca2sis project to open")
    p.add_argument("--weights", metavar="FILE", type=Path, help="model weights (default: the registered model)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps (default: auto)")
    p.add_argument("--screenshot", metavar="OUT.png", type=Path, help="save a screenshot of the window and exit")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds --screenshot waits at most (default 300)")
    p.add_argument("--size", default="1560x940", help="window size for --screenshot, WxH (default 1560x940)")
    p.add_argument("--theme", choices=("system", "dark", "light"), default="system")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless CI: no display needed
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"The editor needs PySide6 ({exc}); install it with: pip install PySide6", file=sys.stderr)
        return 1
    from app.theme import apply_theme, configure_high_dpi, follow_system_theme

    configure_high_dpi()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CA2SIS Studio")
    app.setOrganizationName("ca2sis")
    apply_theme(app, None if args.theme == "system" else args.theme == "dark")
    if args.theme == "system":
        follow_system_theme(app)
    window = create_window(args, interactive=args.screenshot is None)
    if args.screenshot is not None:
        return take_screenshot(app, window, args)
    return app.exec()


def create_window(args: argparse.Namespace, interactive: bool = True):
    from app.main_window import MainWindow
    from app.services import discover

    services = discover()
    window = MainWindow(services, interactive=interactive, device=args.device)
    for piece, reason in services.missing.items():
        window.statusBar().showMessage(f"{piece} unavailable: {reason}", 10000)
    weights = args.weights or services.default_model()
    if weights is not None:
        window.load_model(Path(weights))
    window.show()
    if interactive:
        window.files.offer_recovery()
    if args.open is not None:
        window.files.open_any(args.open)
    return window


def _wait(app, condition, deadline: float) -> bool:
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.01)
    return True


def take_screenshot(app, window, args: argparse.Namespace) -> int:
    """Wait for loading, opening and the first render (within the time limit), then grab the window."""
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        window.resize(w, h)
    except ValueError:
        log.warning("ignoring --size %r (expected WxH)", args.size)
    deadline = time.monotonic() + args.timeout
    rendered = []
    window.rendered.connect(lambda: rendered.append(True))
    ok = _wait(app, lambda: not window.worker.busy, deadline)  # model load and photo open
    window.worker.wait_until_idle(timeout=max(0.0, deadline - time.monotonic()))
    from app.welcome import is_blank

    if window.bridge is not None and not is_blank(window.doc):  # a blank document shows the ways to start
        ok = _wait(app, lambda: rendered and not window.worker.busy, deadline) and ok
    _wait(app, lambda: False, time.monotonic() + 0.3)  # let layouts and repaints settle
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(args.screenshot))
    state = "first-run (no model)" if window.bridge is None else f"model {window.model_label.text()}"
    log.info("screenshot %s: %s, %s", args.screenshot, "saved" if saved else "NOT saved", state)
    for error in window.errors:
        log.error("%s", error)
    if not ok:
        log.error("timed out after %.0f s", args.timeout)
    window.files.autosaver.discard_own()
    window.worker.shutdown()
    window.doc.dirty = False
    window.close()
    return 0 if saved and ok and not window.errors else 1
