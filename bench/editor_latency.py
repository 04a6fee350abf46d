"""Input-to-pixels latency of the editor, step by step, against the generator alone in the same run.

    python bench/editor_latency.py [--weights models/demo-128.safetensors] [--repeats 9] [--json out.json]

Drives the real main window (offscreen unless a display is set) with real input events, the way a
person works: a brush stroke dragged at 60 moves per second (live previews render while it is
painted), a short dab, a key press on a style's α slider, a style swap in a class's source list, and
opening a photo. For each step it measures the time from the input event that completes the edit
(the mouse release, the key press, the open command) to the end of the paint that puts the new
pixels on screen, and breaks it down with the window's own :class:`app.latency.RenderTrace`:

  input     handling the event on the GUI thread: the mask change, the canvas, the content keys
            (opening: reading, detecting, aligning and parsing the photo)
  queue     waiting for the worker (a stroke's live preview still running is interrupted)
  encodings registering the arrays with the editor, style codes and mask embeddings not cached
  generator the model's synthesis network
  image     tensor → picture (and attention overlay), on the worker and on the GUI thread
  delivery  worker thread → GUI thread;  paint  the paint event that shows it

"Generator alone" is ``Editor.generate`` on cached codes, timed on the same worker thread in the same
run: before and after the steps, and three times right after each step, so that each step is
compared with the generator at the same moment (the machine is shared: its speed drifts). Each step
runs twice: once as measured above, once with a
heartbeat, a 4 ms timer on the GUI thread whose longest gap is the GUI thread's longest stall, while
a render runs on the worker and anywhere in the step (painting must never wait more than 16 ms).
The heartbeat is kept out of the latency runs because it perturbs them: every tick needs Python's
GIL, which the worker thread gives up and takes back around each of the model's operations, and on
a busy 2-core machine each such hand-over can wait for a time slice. Medians over ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "resources" / "samples"
STALL_BUDGET_MS = 16.0
HEARTBEAT_MS = 4
BREAKDOWN = ("input", "queue", "encodings", "generator", "image", "delivery", "paint")


def instruction_set() -> str:
    """The CPU's matrix instructions that decide the precision: AMX, AVX-512 BF16, AVX-512 or AVX2 only."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "unknown"
    for flag, name in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX-512 BF16 (no AMX)"),
                       ("avx512f", "AVX-512 (no BF16)"), ("avx2", "AVX2 only (no AVX-512)")):
        if flag in flags:
            return name
    return "no AVX2"


def breakdown(trace, since: float) -> dict[str, float]:
    """Seconds per part of the way from ``since`` (the input event) to the pixels of ``trace``.

    The trace's stages follow each other from its submission on; what lies before ``since`` is cut
    off (when the last live preview of a stroke already had the final mask, the release asks for
    nothing new and that preview's pixels are the answer), so the parts add up to the total.
    """
    s = trace.stages()
    parts = {
        "queue": s["queue"],
        "encodings": s["register"] + s["encode"],
        "generator": s["generate"],
        "image": s["to_image"] + s["display"],  # display follows delivery; the order only matters for clipping
        "delivery": s["worker_other"] + s["delivery"],
        "paint": s["paint"],
    }
    out = {"input": max(0.0, trace.submitted - since)}
    t = trace.submitted
    for name, seconds in parts.items():
        out[name] = max(0.0, min(t + seconds, trace.painted) - max(t, since))
        t += seconds
    return {k: out[k] for k in BREAKDOWN}


class Heartbeat:
    """A 4 ms timer on the GUI thread; the longest gap between its ticks is the longest stall.

    Each tick also reads the GUI thread's own CPU time, which tells a gap filled with the editor's
    work on the GUI thread from one where the thread merely waited (for a core, on a shared machine).
    """

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[tuple[float, float]] = []
        self.timer = QTimer(interval=HEARTBEAT_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append((time.perf_counter(), time.thread_time()))

    def start(self) -> None:
        self.ticks = []
        self._tick()
        self.timer.start()

    def stop(self, busy: list[tuple[float, float]]) -> dict[str, float]:
        """Stop; in ms, the longest gap during the whole step, the longest while the worker was
        rendering (gaps overlapping one of the ``busy`` intervals), and the GUI thread's CPU time in
        that gap."""
        self.timer.stop()
        self._tick()
        gaps = [(b[0] - a[0], b[1] - a[1], a[0], b[0]) for a, b in zip(self.ticks, self.ticks[1:], strict=False)]
        during = [g for g in gaps if any(g[2] < end and g[3] > start for start, end in busy)]
        worst = max(during, default=(0.0, 0.0, 0.0, 0.0))
        return {"all": max(g[0] for g in gaps) * 1000, "rendering": worst[0] * 1000, "rendering_cpu": worst[1] * 1000}


class Bench:
    def __init__(self, app, win, timeout: float) -> None:
        self.app, self.win, self.timeout = app, win, timeout
        self.heartbeat = Heartbeat()
        self.traces: list = []
        win.displayed.connect(self.traces.append)
        self.renders: list[tuple[float, float]] = []  # when the worker rendered (interrupted previews too)
        bridge, render = win.bridge, win.bridge.render

        def timed(plan, cancelled=None):
            start = time.perf_counter()
            try:
                return render(plan, cancelled)
            finally:
                self.renders.append((start, time.perf_counter()))

        bridge.render = timed

    # -- running the event loop while a scripted step unfolds ----------------------------------------
    def run(self, script: Iterator[float]) -> None:
        """Run ``script`` inside the event loop: it yields the milliseconds to wait before its next action.

        A result reaching the screen or the worker going idle moves the script on at once, so that
        waiting for pixels needs no polling: the GUI thread sleeps while the model renders, as it
        does in use (a timer waking it every few ms slows the render on a busy machine).
        """
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        timer = QTimer(singleShot=True)

        def step() -> None:
            try:
                timer.start(max(0, round(next(script))))
            except BaseException as exc:  # the end of the script, or an error to report after the loop
                self.error = None if isinstance(exc, StopIteration) else exc
                loop.quit()

        def poke(*_) -> None:
            if timer.isActive() and self.waiting:
                timer.start(0)

        timer.timeout.connect(step)
        self.win.displayed.connect(poke)
        self.win.worker.busy_changed.connect(poke)
        self.error, self.waiting = None, False
        timer.start(0)
        loop.exec()
        self.win.displayed.disconnect(poke)
        self.win.worker.busy_changed.disconnect(poke)
        if self.error is not None:
            raise self.error

    def wait_for_pixels(self, since: float) -> Iterator[float]:
        """Yield until the worker is idle and a render's pixels reached the screen after ``since``."""
        deadline = time.perf_counter() + self.timeout
        self.waiting = True  # woken by the window's signals (see run), else every half second
        while not any(t.painted >= since for t in self.traces) or self.win.worker.busy:
            if time.perf_counter() > deadline:
                raise TimeoutError("no render reached the screen in time")
            yield 500
        self.waiting = False

    def measure(self, name: str, script: Callable[[dict], Iterator[float]], watch: bool = False) -> dict:
        """Run one step; ``script`` sets ``marks["input"]`` at the event that completes the edit;
        ``watch`` runs the heartbeat."""
        self.win.worker.wait_until_idle(self.timeout)
        self.app.processEvents()
        self.traces.clear()
        self.renders.clear()
        marks: dict[str, float] = {}

        def whole() -> Iterator[float]:
            if watch:
                self.heartbeat.start()
            yield from script(marks)
            yield from self.wait_for_pixels(marks["input"])

        self.run(whole())
        nan = {"all": math.nan, "rendering": math.nan, "rendering_cpu": math.nan}
        stall = self.heartbeat.stop(self.renders) if watch else nan
        trace = self.traces[-1]  # the render now on screen
        alone = math.nan if watch else statistics.median(self.generator_alone(3))
        idle = self.idle_stall(0.4) if watch else math.nan
        return {"step": name, "watched": watch, "total_ms": (trace.painted - marks["input"]) * 1000,
                "generator_alone_ms": alone, "stall_idle_ms": idle,
                "parts_ms": {k: v * 1000 for k, v in breakdown(trace, marks["input"]).items()},
                "stall_ms": stall["all"], "stall_while_rendering_ms": stall["rendering"],
                "gui_cpu_in_that_stall_ms": stall["rendering_cpu"], "renders": len(self.renders),
                "render_began_before_input": trace.submitted < marks["input"]}

    def idle_stall(self, seconds: float) -> float:
        """The control: the heartbeat's longest gap while the editor does nothing at all. On a shared
        machine the GUI thread also waits for a core now and then; this is that floor, right now."""

        def nothing() -> Iterator[float]:
            self.heartbeat.start()
            yield seconds * 1000

        self.run(nothing())
        return self.heartbeat.stop([])["all"]

    def generator_alone(self, repeats: int) -> list[float]:
        """``Editor.generate`` on cached codes, timed on the worker thread (the thread the renders use)."""
        doc, editor = self.win.doc, self.win.editor
        face, mask, original = doc.face, doc.mask.copy(), doc.original_mask

        def job() -> list[float]:
            shapes, styles = editor.embed_mask(mask), editor.encode_style(face, original)
            editor.generate(shapes, styles)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                editor.generate(shapes, styles)
                times.append((time.perf_counter() - t) * 1000)
            return times

        out: list = []
        done = threading.Event()
        self.win.run_job("bench", ("generator", time.perf_counter()), lambda: (job(), done.set())[0], out.append)
        done.wait(self.timeout * repeats)  # the GUI thread sleeps meanwhile, as while a render runs in use
        self.win.worker.wait_until_idle(self.timeout)
        if not out or not out[0].ok:
            raise RuntimeError(f"timing the generator failed: {out[0].error if out else 'no result'}")
        return out[0].value


# ---- the steps ------------------------------------------------------------------------------------
def stroke_script(bench: Bench, row: int, cls: int, moves: int) -> Callable[[dict], Iterator[float]]:
    """Press, drag across the face at 60 moves per second, release (the release is the input)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    win = bench.win
    canvas = win.canvas

    def point(x: float):
        size = win.doc.mask.shape[0]
        return canvas.to_widget(x * size, row / 512 * size).toPoint()

    def script(marks: dict) -> Iterator[float]:
        win.tools.tool, win.tools.current_class, win.tools.brush_size = "brush", cls, 14
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(0.3))
        for i in range(1, moves + 1):
            yield 16
            QTest.mouseMove(canvas, point(0.3 + 0.4 * i / moves))
        yield 16
        marks["input"] = time.perf_counter()
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point(0.7))

    return script


def key_script(widget, key) -> Callable[[dict], Iterator[float]]:
    from PySide6.QtTest import QTest

    def script(marks: dict) -> Iterator[float]:
        marks["input"] = time.perf_counter()
        QTest.keyClick(widget, key)
        yield 0

    return script


def open_script(bench: Bench, path: Path) -> Callable[[dict], Iterator[float]]:
    def script(marks: dict) -> Iterator[float]:
        marks["input"] = time.perf_counter()
        bench.win.files.open_photo(path, confirmed=True)  # File → Open with the dialog answered
        yield 0

    return script


def run_steps(bench: Bench, repeats: int, photos: list[Path], watch: bool) -> list[dict]:
    from PySide6.QtCore import Qt

    from ca2sis.requests import StyleSource

    win, doc = bench.win, bench.win.doc
    results = []
    for i in range(repeats):  # skin over the hair, then hair back over it: every stroke changes the mask
        row = 90 + 12 * (i // 2)
        results.append(bench.measure("stroke (0.4 s drag)", stroke_script(bench, row, (1, 13)[i % 2], 24), watch))
        results.append(bench.measure("dab (a click)", stroke_script(bench, row + 6, (1, 13)[i % 2], 1), watch))
    hair = win.style_panel.rows[13]
    doc.set_style(13, StyleSource("random", seed=7))
    win.worker.wait_until_idle(bench.timeout)
    for i in range(repeats):
        key = Qt.Key.Key_Left if i % 2 == 0 else Qt.Key.Key_Right
        results.append(bench.measure("slider move (α key step)", key_script(hair.alpha, key), watch))
    for _ in range(repeats):  # Random ↔ the reference face, with the keyboard on the class's source list
        hair.source.setFocus()
        key = Qt.Key.Key_Down if hair.source.currentIndex() == 1 else Qt.Key.Key_Up
        results.append(bench.measure("style swap (source list)", key_script(hair.source, key), watch))
    for i in range(repeats):
        results.append(bench.measure("open photo", open_script(bench, photos[i % len(photos)]), watch))
    return results


def summarise(results: list[dict], generator: list[float]) -> list[dict]:
    """Latency from the plain runs, stalls from the watched ones."""
    gen = statistics.median(generator)
    rows = []
    for name in dict.fromkeys(r["step"] for r in results):
        runs = [r for r in results if r["step"] == name and not r["watched"]]
        watched = [r for r in results if r["step"] == name and r["watched"]]
        total = statistics.median(r["total_ms"] for r in runs)
        rows.append({
            "step": name, "runs": len(runs), "total_ms": total, "over_generator_ms": total - gen,
            "generator_alone_paired_ms": statistics.median(r["generator_alone_ms"] for r in runs),
            # each run against the generator timed right after it: the budget's measure
            "over_paired_generator_ms": statistics.median(r["total_ms"] - r["generator_alone_ms"] for r in runs),
            # what the app adds to the generator run of that very render
            "over_own_generator_ms": statistics.median(r["total_ms"] - r["parts_ms"]["generator"] for r in runs),
            "parts_ms": {k: statistics.median(r["parts_ms"][k] for r in runs) for k in BREAKDOWN},
            "watched_runs": len(watched),
            "total_ms_with_heartbeat": statistics.median(r["total_ms"] for r in watched),
            "stall_max_ms": max(r["stall_ms"] for r in watched),
            "stall_rendering_max_ms": max(r["stall_while_rendering_ms"] for r in watched),
            "stall_rendering_median_ms": statistics.median(r["stall_while_rendering_ms"] for r in watched),
            "stall_rendering_over_budget": sum(r["stall_while_rendering_ms"] > STALL_BUDGET_MS for r in watched),
            # the GUI thread's own CPU time in the worst of those gaps: work of the editor, not waiting
            "gui_cpu_in_worst_stall_ms": max(watched, key=lambda r: r["stall_while_rendering_ms"])[
                "gui_cpu_in_that_stall_ms"],
            "stall_idle_max_ms": max(r["stall_idle_ms"] for r in watched),
            "stall_idle_median_ms": statistics.median(r["stall_idle_ms"] for r in watched),
        })
    return rows


def print_table(rows: list[dict], generator: list[float], info: dict) -> None:
    gen = statistics.median(generator)
    print(f"\n{info['cpu']} · {info['instruction_set']} · {info['cores']} cores · model threads "
          f"{info['model_threads']} · {info['device']} · {info['model']}")
    print(f"generator alone: median {gen:.0f} ms (min {min(generator):.0f}, max {max(generator):.0f}, "
          f"n={len(generator)})\n")
    head = ["step", "input→pixels", "generator alone", "difference", "beyond its own generator", *BREAKDOWN,
            "GUI stall while rendering: median / max (GUI work in it)", "doing nothing: median / max"]
    print(" | ".join(head))
    for r in rows:
        parts = [f"{r['parts_ms'][k]:.1f}" for k in BREAKDOWN]
        print(" | ".join([r["step"], f"{r['total_ms']:.0f}", f"{r['generator_alone_paired_ms']:.0f}",
                          f"{r['over_paired_generator_ms']:+.0f}", f"{r['over_own_generator_ms']:+.0f}", *parts,
                          f"{r['stall_rendering_median_ms']:.0f} / {r['stall_rendering_max_ms']:.0f} "
                          f"({r['gui_cpu_in_worst_stall_ms']:.0f})",
                          f"{r['stall_idle_median_ms']:.0f} / {r['stall_idle_max_ms']:.0f}"]))
    print("\nms, medians of the runs. generator alone: timed right after each run; difference: the median of "
          "(input→pixels − generator alone) over the runs; beyond its own generator: the median of (input→pixels − "
          "the generator's time in that very render), what the editor adds. GUI stalls (separate runs): the "
          "longest gap of a 4 ms heartbeat timer on the GUI thread per run, while a render ran on the worker (in "
          "brackets: the GUI thread's CPU time within the longest), and, as the control, for 0.4 s right after with "
          "the editor doing nothing")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=ROOT / "models" / "demo-128.safetensors")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--threads", type=int, default=None,
                   help="model threads (default: the editor's own choice, every core but one)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds any one step may take at most")
    p.add_argument("--json", type=Path, help="write every measurement here")
    args = p.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("CA2SIS_APP_DATA", tempfile.mkdtemp(prefix="ca2sis-bench-"))  # no autosaves at home

    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.services import discover

    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(discover(), interactive=False, device=args.device)
    win.resize(1560, 940)
    win.show()
    win.load_model(args.weights)
    win.worker.wait_until_idle(max(args.timeout, 300))  # importing torch alone takes seconds
    if win.editor is None:
        print(f"could not load {args.weights}: {win.errors}", file=sys.stderr)
        return 1
    import torch

    def model_threads() -> int:  # on the worker thread, where the renders run
        if args.threads:
            torch.set_num_threads(args.threads)
        return torch.get_num_threads()

    threads: list = []
    win.run_job("bench", "threads", model_threads, threads.append)
    win.worker.wait_until_idle(args.timeout)

    work = Path(tempfile.mkdtemp(prefix="ca2sis-latency-"))
    photos = []
    for name in ("astronaut", "generated-2"):  # copies with their masks: opening needs no parser
        for suffix in (".png", "_mask.png"):
            shutil.copy(SAMPLES / f"{name}{suffix}", work / f"{name}{suffix}")
        photos.append(work / f"{name}.png")
    win.files.open_photo(photos[0], confirmed=True)
    win.worker.wait_until_idle(args.timeout)
    win.files.add_reference(SAMPLES / "generated-1.png")
    win.worker.wait_until_idle(args.timeout)
    bench = Bench(app, win, args.timeout)
    for _ in range(3):  # warm-up: first calls allocate and pick kernels
        bench.measure("warm-up", stroke_script(bench, 300 + 20 * _, 13, 2))

    generator = bench.generator_alone(args.repeats * 3)
    results = run_steps(bench, args.repeats, photos, watch=False)
    results += run_steps(bench, args.repeats, photos, watch=True)
    win.files.open_photo(photos[0], confirmed=True)
    win.worker.wait_until_idle(args.timeout)
    generator += bench.generator_alone(args.repeats * 3)
    generator += [r["generator_alone_ms"] for r in results if not r["watched"]]  # (medians of three, paired)
    rows = summarise(results, generator)
    from bench.inference import machine

    info = machine() | {"instruction_set": instruction_set(), "model_threads": threads[0].value,
                        "device": win.editor.device_label, "model": win.editor.model_name,
                        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}
    print_table(rows, generator, info)
    worst_stall = max(r["stall_rendering_max_ms"] for r in rows)
    stroke = next(r for r in rows if r["step"].startswith("stroke"))
    verdict = {
        "stroke_over_generator_alone_ms": stroke["over_paired_generator_ms"],
        "stroke_over_its_own_generator_ms": stroke["over_own_generator_ms"],
        "stroke_within_generator_plus_40ms": max(stroke["over_paired_generator_ms"], stroke["over_own_generator_ms"])
        <= 40.0,
        "worst_gui_stall_while_rendering_ms": worst_stall,
        "gui_never_stalled_over_16ms_while_rendering": worst_stall <= STALL_BUDGET_MS,
    }
    print(json.dumps(verdict, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": info, "generator_alone_ms": generator, "steps": rows,
                                         "runs": results, "verdict": verdict}, indent=1) + "\n")
    win.interactive = False
    win.doc.dirty = False
    win.files.autosaver.discard_own()
    win.worker.shutdown()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
