"""Inference speed of the (CA)²-SIS editor against a naive path of the same model, measured in one run.

    python bench/inference.py [--preset celebamask-256] [--weights FILE] [--repeats 3] [--json out.json]

Three ways to run the same weights, each in its own process (so peak memory is its own):
  naive   fp32, attention materialised as softmax(QKᵀ)V, nothing cached: every edit re-runs the
          style encoder, the mask embedder and the generator (what a straightforward port does);
  fp32    the editor in fp32: fused attention kernels, per-token chunking, cached encodings;
  auto    the editor with its default precision (bf16 where the CPU multiplies bf16 natively).
For each: the first full reconstruction (cold caches) and one cached edit (a style slider move:
generator only). Ratios are against the naive path measured in this run. Also the model's FLOPs per
image and the reduced-precision error against fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED_FIXTURE = ROOT.parent / "shared" / "design" / "official-fixture"
SAMPLES = ROOT / "resources" / "samples"


def machine() -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "cpu_threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def inputs(resolution: int):
    """A real portrait and mask: the shared fixture's, else the bundled sample's; else a synthetic layout."""
    import numpy as np
    from PIL import Image

    for folder, image_file, mask_file, source in (
        (SHARED_FIXTURE, "input-image.png", "input-mask.png", "official fixture portrait"),
        (SAMPLES, "astronaut.png", "astronaut_mask.png", "bundled sample portrait"),
    ):
        if (folder / mask_file).is_file():
            image = np.asarray(Image.open(folder / image_file).convert("RGB"))
            return image, np.asarray(Image.open(folder / mask_file)), source
    sys.path.insert(0, str(ROOT / "tests"))
    from model.conftest import face_like_mask, photo_like

    return photo_like(resolution), face_like_mask(resolution), "synthetic layout"


def build_model(preset_name: str, weights: str | None):
    import torch

    from ca2sis.checkpoint import load_model
    from ca2sis.config import preset
    from ca2sis.model import CA2SIS

    if weights:
        return load_model(weights)[0]
    model = CA2SIS(preset(preset_name))
    # Random weights with every layer active (fresh models have zeroed output convolutions, which
    # would hide reduced-precision error); same recipe as the official numerical fixture.
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return model


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a worker would report
    its parent's peak when that was higher.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def sync(device) -> None:
    """Wait for queued GPU work, so that a timer stops when the result exists."""
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def peak_memory_mb(device) -> float:
    """CUDA: torch's peak allocated memory since the last reset; CPU: the process's peak RSS."""
    import torch

    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return peak_rss_mb()


def compile_generator(editor, backend: str = "inductor", mode: str | None = None) -> None:
    """Put the editor's generator (all of a cached edit's work) through ``torch.compile``.

    ``dynamic=False``: one specialised graph per batch size instead of a slower symbolic one.
    """
    import torch

    editor.model.generator = torch.compile(editor.model.generator, backend=backend, mode=mode, dynamic=False)


STRIP_CLASS = 13  # hair: the A/B strip's variants differ in this class's style


def strip_requests(mask_key: str, face_key: str, n: int, cls: int = STRIP_CLASS) -> list:
    """The A/B strip as the app asks for it: ``n`` random styles for one class, the rest the face's own."""
    from ca2sis.requests import RenderRequest, StyleSource

    return [RenderRequest.build(mask_key, face_key, {cls: StyleSource("random", seed=seed)}) for seed in range(n)]


def render_strip_batched(editor, mask_key: str, face_key: str, n: int, cls: int = STRIP_CLASS) -> list:
    """The same ``n`` images as :func:`strip_requests` rendered one by one, from one generator call."""
    import torch

    from ca2sis import editing
    from ca2sis.tensors import tensor_to_image

    with torch.no_grad():
        shapes, own = editor._shapes_of(mask_key), editor._styles_of(face_key)
        styles = torch.stack([
            editing.blend_style(own, editor.random_styles(seed).to(editor.device, editor.dtype), cls, 1.0)
            for seed in range(n)
        ])
        with editor._precision():
            images = editor.model.generate(shapes.expand(n, -1, -1), styles).image
    return [tensor_to_image(x) for x in images]


def measure_editor(editor, image, mask, repeats: int) -> tuple[dict, object]:
    """Time an editor on one face: (record, the reconstruction as H×W×3 uint8).

    The first full reconstruction (cold caches), the median full reconstruction (caches cleared each
    time: style encoder, mask embedder and generator) and the median cached edit (a hair-style blend
    slider move: generator only).
    """
    import numpy as np

    from ca2sis.requests import RenderRequest, StyleSource

    record: dict = {}
    face_key, mask_key = editor.add_face(image, mask), editor.add_mask(mask)
    ref_key = editor.add_face(image[:, ::-1].copy(), mask[:, ::-1].copy())

    def full():
        editor._styles.clear()
        editor._shapes.clear()
        result = editor.render(RenderRequest.build(mask_key, face_key))
        sync(editor.device)
        return result

    first = time.perf_counter()
    out = full()
    record["first_full_s"] = time.perf_counter() - first
    record["full_s"], record["full_runs"] = timed(full, repeats)
    editor.render(RenderRequest.build(mask_key, face_key, {STRIP_CLASS: StyleSource("reference", ref_key, 0.5)}))
    alphas = iter(np.linspace(0.1, 0.9, repeats))

    def edit():
        style = StyleSource("reference", ref_key, float(next(alphas)))
        editor.render(RenderRequest.build(mask_key, face_key, {STRIP_CLASS: style}))
        sync(editor.device)

    record["edit_s"], record["edit_runs"] = timed(edit, repeats)
    return record, out.image


def measure_strip(editor, image, mask, n: int, repeats: int) -> dict:
    """The A/B strip of ``n`` random hair styles, rendered one by one as the app does and batched into one
    generator call: median times, the first batched call's (a compiled generator compiles then), and how
    far apart the two ways' images are."""
    import numpy as np

    face_key, mask_key = editor.add_face(image, mask), editor.add_mask(mask)
    requests = strip_requests(mask_key, face_key, n)
    one_by_one = [editor.render(r).image for r in requests]  # warm-up, and the reference images
    t = time.perf_counter()
    batched = render_strip_batched(editor, mask_key, face_key, n)
    record: dict = {"strip_n": n, "strip_batched_first_s": time.perf_counter() - t}
    record["strip_sequential_s"], _ = timed(lambda: [editor.render(r) for r in requests], repeats)
    record["strip_batched_s"], _ = timed(lambda: render_strip_batched(editor, mask_key, face_key, n), repeats)
    gap = np.abs(np.stack(one_by_one).astype(np.int16) - np.stack(batched).astype(np.int16))
    record["strip_batched_vs_sequential_max_abs_8bit"] = int(gap.max())
    return record


def worker(args: argparse.Namespace) -> dict:
    """One configuration, in this process; prints a JSON record."""
    import numpy as np
    import torch

    from ca2sis.editor import Editor
    from ca2sis.tensors import image_to_tensor, one_hot, tensor_to_image

    model = build_model(args.preset, args.weights)
    image, mask, source = inputs(model.config.resolution)
    device = args.device
    record: dict = {"mode": args.worker, "inputs": source}
    if args.worker == "naive":
        model = model.to(device).eval().requires_grad_(False)
        model.set_materialised_attention(True)
        model.set_token_chunk(0)
        x = image_to_tensor(image).to(device)
        onehot = one_hot(torch.from_numpy(mask.astype(np.int64))[None], model.config.num_classes).to(device)

        def full():
            with torch.no_grad():
                out = model.generate(model.embed_mask(onehot), model.encode_style(x, onehot)).image
            sync(device)
            return out

        first = time.perf_counter()
        out = full()
        record["first_full_s"] = time.perf_counter() - first
        record["full_s"], record["full_runs"] = timed(full, args.repeats)
        # Nothing is cached on this path: an edit is a full pass.
        record["edit_s"], record["edit_runs"] = record["full_s"], record["full_runs"]
        record["precision"] = "fp32"
        image_out = tensor_to_image(out)
    else:
        editor = Editor(model, device=device, precision="fp32" if args.worker == "fp32" else args.precision)
        record["precision"] = editor.precision
        measured, image_out = measure_editor(editor, image, mask, args.repeats)
        record.update(measured)
    np.save(args.out_image, image_out)
    record["peak_memory_mb"] = peak_memory_mb(device)
    return record


def error_vs(image, reference) -> dict:
    """How far an 8-bit image is from a reference image: max and mean |Δ| in levels, PSNR in dB."""
    import numpy as np

    err = np.abs(image.astype(np.float64) - reference.astype(np.float64))
    mse = float((err**2).mean())
    return {"max_abs_8bit": float(err.max()), "mean_abs_8bit": float(err.mean()),
            "psnr_db": float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))}


def flops(preset_name: str) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ca2sis.config import preset
    from ca2sis.model import CA2SIS
    from ca2sis.tensors import one_hot

    config = preset(preset_name)
    model = CA2SIS(config).eval()
    r = config.resolution
    onehot = one_hot(torch.randint(0, config.num_classes, (1, r, r)), config.num_classes)
    image = torch.randn(1, 3, r, r)
    with torch.no_grad():
        shapes, styles = model.embed_mask(onehot), model.encode_style(image, onehot)
        counts = {}
        model.set_materialised_attention(True)  # the model's own arithmetic, attention included
        counter = FlopCounterMode(display=False)
        with counter:
            model.generate(shapes, styles)
        counts["generator_reference"] = counter.get_total_flops() / 1e9
        model.set_materialised_attention(False)
        for name, fn in [("generator", lambda: model.generate(shapes, styles)),
                         ("style_encoder", lambda: model.encode_style(image, onehot)),
                         ("mask_embedder", lambda: model.embed_mask(onehot))]:
            counter = FlopCounterMode(display=False)
            with counter:
                fn()
            counts[name] = counter.get_total_flops() / 1e9
    params = sum(p.numel() for p in model.parameters()) / 1e6
    return {"gflop_per_image": counts, "params_m": params}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="celebamask-256")
    parser.add_argument("--weights", help="real weights of that preset (default: random weights)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="auto", help="precision of the 'auto' configuration")
    parser.add_argument("--devices", default="auto", help="comma list: cpu,cuda (auto: cpu, plus cuda when present)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", choices=["naive", "fp32", "auto"], help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--out-image", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    import numpy as np
    import torch

    if args.devices == "auto":
        devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    else:
        devices = args.devices.split(",")
    report = {"preset": args.preset, "machine": machine(), "flops": flops(args.preset), "runs": {}}
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    for device in devices:
        rows = {}
        for mode in ("naive", "fp32", "auto"):
            out_image = tmp / f"ca2sis-bench-{os.getpid()}-{device}-{mode}.npy"
            cmd = [sys.executable, __file__, "--worker", mode, "--device", device, "--preset", args.preset,
                   "--repeats", str(args.repeats), "--precision", args.precision, "--out-image", str(out_image)]
            if args.weights:
                cmd += ["--weights", args.weights]
            print(f"[{device}] {mode} …", flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            rows[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
            rows[mode]["image"] = np.load(out_image)
            out_image.unlink()
        ref = rows["fp32"]["image"]
        for row in rows.values():
            row["error_vs_fp32"] = error_vs(row.pop("image"), ref)
            row["speedup_edit_vs_naive"] = rows["naive"]["edit_s"] / row["edit_s"]
            row["speedup_full_vs_naive"] = rows["naive"]["full_s"] / row["full_s"]
        report["runs"][device] = rows
    print_table(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=float))
    return 0


def print_table(report: dict) -> None:
    m = report["machine"]
    f = report["flops"]
    print(f"\n(CA)²-SIS inference, preset {report['preset']}, batch 1 — {m['cpu']}, {m['cores']} cores"
          + (f", {m['gpu']}" if "gpu" in m else "") + f", torch {m['torch']}")
    g = f["gflop_per_image"]
    print(f"FLOPs per image: generator {g['generator_reference']:.1f} G as specified, {g['generator']:.1f} G as the "
          f"editor computes it (folded cross-attention), style encoder {g['style_encoder']:.1f} G, "
          f"mask embedder {g['mask_embedder']:.2f} G; parameters {f['params_m']:.1f} M")
    header = (f"{'device':6} {'path':6} {'prec':5} {'full (s)':>9} {'edit (s)':>9} {'edit ×naive':>11} "
              f"{'peak MB':>8} {'max|Δ| 8-bit':>13} {'PSNR dB':>8}")
    print(header)
    print("-" * len(header))
    for device, rows in report["runs"].items():
        for mode, r in rows.items():
            e = r["error_vs_fp32"]
            print(f"{device:6} {mode:6} {r['precision']:5} {r['full_s']:9.3f} {r['edit_s']:9.3f} "
                  f"{r['speedup_edit_vs_naive']:11.2f} {r['peak_memory_mb']:8.0f} {e['max_abs_8bit']:13.1f} "
                  f"{e['psnr_db']:8.1f}")


if __name__ == "__main__":
    sys.exit(main())
