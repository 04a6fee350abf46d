"""Fit to photo on held-out faces: reconstruction PSNR without and with the fit, time per fit, and
whether hair edits still work on the fitted faces.

    python bench/fit.py --json docs/bench/fit-cpu.json                 # 20 faces, the editor's default fit
    python bench/fit.py --faces 4 --steps 60 --threads 1               # a quick look

Faces come from ``../shared/data/celebamask-mini`` (or ``--data``) in place. Held out are the pairs the
model did not train on: by default those after the first ``--trained 800`` by sorted file name (the
bundled demo model's split, see models/README.md). Faces that the bundled parser's validation split
also left out come first; each row says whether the parser may have seen the face (the benchmark uses
the data set's own masks, so that only matters for how "unseen" the face is overall).

For each face: its reconstruction with the base model and with the fit (PSNR at the model's resolution,
same run, same editor), the fit's wall time, and the editability criteria of
:mod:`ca2sis.fit.editability` for the hair, with the next held-out face that has hair as reference.
Timing: the perceptual network is loaded before the clock starts; everything else is in the time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cpu_isa, repo_path, write_report  # noqa: E402

SHARED_MINI = ROOT / ".." / "shared" / "data" / "celebamask-mini"
HAIR = 13
MIN_HAIR = 0.02  # share of the image: a hair edit needs hair to act on


def held_out_faces(data: Path, trained: int, count: int) -> list[tuple[str, bool]]:
    """(name, also held out by the bundled parser) for ``count`` faces after the first ``trained``."""
    from ca2sis.parsing.dataset import split_names

    names = sorted(p.stem for p in (data / "images").glob("*.jpg") if (data / "masks" / f"{p.stem}.png").is_file())
    held = names[trained:]
    if len(held) < count:
        raise SystemExit(f"{data}: only {len(held)} pairs after the first {trained}; need {count}")
    parser_val = set(split_names(names, 120)[1])
    ordered = [n for n in held if n in parser_val] + [n for n in held if n not in parser_val]
    return [(n, n in parser_val) for n in ordered[:count]]


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch

    from ca2sis.editor import Editor
    from ca2sis.fit import default_config
    from ca2sis.fit.editability import edit_scores, verdict
    from ca2sis.fit.loop import _inception
    from ca2sis.photo import load_image, load_mask
    from ca2sis.requests import RenderRequest

    torch.set_num_threads(args.threads)
    editor = Editor.load(args.weights, device=args.device, precision=args.precision)
    config = default_config(steps=args.steps, seed=args.seed)
    if config.perceptual_weight > 0:
        _inception(str(editor.device))  # a one-off load, not part of any fit
    faces = held_out_faces(args.data, args.trained, args.faces)
    keys, masks = {}, {}
    for name, _ in faces:
        image, mask = load_image(args.data / "images" / f"{name}.jpg"), load_mask(args.data / "masks" / f"{name}.png")
        keys[name] = editor.add_face(image, mask)
        masks[name] = editor._face(keys[name])[1]
    with_hair = [n for n, _ in faces if (masks[n] == HAIR).mean() >= MIN_HAIR]

    rows = []
    for i, (name, parser_held_out) in enumerate(faces):
        key = keys[name]
        t = time.perf_counter()
        editor.render(RenderRequest.build(editor.add_mask(masks[name]), key))
        render_seconds = time.perf_counter() - t
        result = editor.fit(key, config)
        row = {"face": name, "parser_held_out": parser_held_out, "psnr_unfitted": result.psnr_before,
               "psnr_fitted": result.psnr_after, "seconds": result.seconds, "render_seconds": render_seconds}
        if name in with_hair and len(with_hair) > 1:
            ref = with_hair[(with_hair.index(name) + 1) % len(with_hair)]
            unfitted = edit_scores(editor, key, keys[ref], HAIR, None)
            fitted = edit_scores(editor, key, keys[ref], HAIR, result.key)
            row |= {"reference": ref, "unfitted": unfitted.as_dict(), "fitted": fitted.as_dict(),
                    "swap_strength_ratio": fitted.swap_strength / max(unfitted.swap_strength, 1e-9),
                    "outline_ratio": fitted.outline_strength / max(unfitted.outline_strength, 1e-9),
                    "passes": verdict(fitted, unfitted)}
        rows.append(row)
        editor.remove_fit(key)
        print(f"{i + 1:2d}/{len(faces)} {name[:12]}  PSNR {result.psnr_before:5.2f} → {result.psnr_after:5.2f} dB  "
              f"{result.seconds:5.1f} s" + (f"  swap in hair {row['fitted']['swap_share']:.0%} "
                                            f"strength ×{row['swap_strength_ratio']:.2f}  outline "
                                            f"×{row['outline_ratio']:.2f}" if "fitted" in row else ""), flush=True)

    edited = [r for r in rows if "fitted" in r]

    def mean(values) -> float:
        values = list(values)
        return float(np.mean(values)) if values else float("nan")

    summary = {
        "faces": len(rows),
        "psnr_unfitted": mean(r["psnr_unfitted"] for r in rows),
        "psnr_fitted": mean(r["psnr_fitted"] for r in rows),
        "seconds_per_fit_mean": mean(r["seconds"] for r in rows),
        "seconds_per_fit_median": float(statistics.median(r["seconds"] for r in rows)),
        "fit_over_render": mean(r["seconds"] / r["render_seconds"] for r in rows),
        "edited_faces": len(edited),
        "swap_share_fitted": mean(r["fitted"]["swap_share"] for r in edited),
        "swap_share_unfitted": mean(r["unfitted"]["swap_share"] for r in edited),
        "swap_strength_ratio": mean(r["swap_strength_ratio"] for r in edited),
        "outline_ratio": mean(r["outline_ratio"] for r in edited),
        "outline_contrast_fitted": mean(r["fitted"]["outline_contrast"] for r in edited),
        "outline_contrast_unfitted": mean(r["unfitted"]["outline_contrast"] for r in edited),
        "passes": {k: sum(r["passes"][k] for r in edited) for k in (edited[0]["passes"] if edited else {})},
        "adapter_mb": result.adapter_bytes / 1e6,
    }
    report = {
        "model": editor.model_name, "weights": repo_path(args.weights), "resolution": editor.resolution,
        "device": editor.device_label, "cpu_isa": cpu_isa(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "fit_config": json.loads(config.to_json()), "trained_pairs": args.trained,
        "summary": summary, "rows": rows,
    }
    print(f"\n{len(rows)} held-out faces, {editor.model_name} at {editor.resolution}², {editor.device_label}, "
          f"{cpu_isa()}, {torch.get_num_threads()} threads, {config.steps} steps")
    print(f"PSNR unfitted {summary['psnr_unfitted']:.2f} dB → fitted {summary['psnr_fitted']:.2f} dB; "
          f"{summary['seconds_per_fit_mean']:.1f} s per fit (median {summary['seconds_per_fit_median']:.1f}, "
          f"{summary['fit_over_render']:.0f}× one render); adapters {summary['adapter_mb']:.2f} MB")
    print(f"hair swap ({len(edited)} faces): {summary['swap_share_fitted']:.0%} of the change in the dilated hair "
          f"(unfitted {summary['swap_share_unfitted']:.0%}), strength ×{summary['swap_strength_ratio']:.2f} of "
          f"unfitted; hair shape: outline change ×{summary['outline_ratio']:.2f} of unfitted, contrast "
          f"{summary['outline_contrast_fitted']:.1f} (unfitted {summary['outline_contrast_unfitted']:.1f}); "
          f"faces passing each criterion: {summary['passes']}")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=ROOT / "models" / "demo-128.safetensors")
    p.add_argument("--data", type=Path, default=SHARED_MINI)
    p.add_argument("--trained", type=int, default=800, help="the model trained on this many pairs, first by name")
    p.add_argument("--faces", type=int, default=20)
    p.add_argument("--steps", type=int, default=None, help="steps in all (default: the editor's default fit)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="auto")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if not (args.data / "images").is_dir():
        raise SystemExit(f"no data at {args.data} (the shared CelebAMask-HQ mini set; pass --data)")
    write_report(args.json, run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
