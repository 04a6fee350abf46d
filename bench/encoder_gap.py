"""How much of a generator's reconstruction error is its style encoder's?

    python bench/encoder_gap.py --weights models/demo-128.safetensors --data SPLIT [--faces 8] [--json PATH]

For faces of the training and the held-out split (``SPLIT`` holds ``train/`` and ``test/``, e.g. made
by ``ca2sis.data.split.link_split``) it reports three reconstructions' PSNR:

* ``encoder``: the generator on the style encoder's codes (what the editor shows);
* ``optimised_codes``: the same generator on codes optimised for that one face (Adam on the pixel L1,
  from the encoder's codes, the best step kept) — what a perfect encoder could reach with this generator;
* ``class_mean``: each class painted its mean colour, a floor any useful model should beat.

A large encoder → optimised gap says the encoder, not the generator, loses the photo, and
``main.py train --style-encoder-only`` is the cheap fix; a small one says the generator must learn.
The generator's weights are never changed. The time column is this machine's, for one face.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cpu_isa, repo_path, write_report  # noqa: E402


def class_mean_paint(real, onehot):
    """Every pixel replaced by its class's mean colour (the mask's own classes, this image's colours)."""
    area = onehot.sum((2, 3), keepdim=True).clamp_min(1)
    mean = (real[:, None] * onehot[:, :, None]).sum((3, 4), keepdim=True) / area[:, :, None]
    return (mean * onehot[:, :, None]).sum(1)


def optimise_codes(model, shapes, codes, real, steps: int, lr: float):
    import torch

    codes = codes.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([codes], lr=lr)
    best, best_loss = codes.detach().clone(), float("inf")
    for step in range(steps + 1):
        loss = (model.generate(shapes, codes).image - real).abs().mean()
        if float(loss.detach()) < best_loss:  # the codes this loss was measured on, before the step moves them
            best, best_loss = codes.detach().clone(), float(loss.detach())
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return best


def run(args: argparse.Namespace) -> dict:
    import torch

    from ca2sis.checkpoint import load_model
    from ca2sis.data import DataSpec, open_dataset
    from ca2sis.metrics import reconstruction as rec
    from ca2sis.tensors import one_hot

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, config, _ = load_model(args.weights)
    model.eval().requires_grad_(False)
    report: dict = {
        "weights": repo_path(args.weights),
        "model": config.name,
        "machine": {"cpu": cpu_isa(), "python": platform.python_version(), "torch": torch.__version__,
                    "threads": args.threads},
        "optimiser": {"steps": args.steps, "lr": args.lr, "loss": "L1"},
        "splits": {},
    }
    for split in args.splits:
        ds = open_dataset(DataSpec(Path(args.data), "auto", config.num_classes), split, config.resolution, train=False)
        stride = max(1, len(ds) // args.faces)
        rows = []
        for index in list(range(0, len(ds), stride))[: args.faces]:
            sample = ds[index]
            real = sample["image"][None]
            onehot = one_hot(sample["label"][None], config.num_classes)
            shapes = model.embed_mask(onehot)
            with torch.no_grad():
                codes = model.encode_style(real, onehot)
                encoded = model.generate(shapes, codes).image
            t0 = time.perf_counter()
            best = optimise_codes(model, shapes, codes, real, args.steps, args.lr)
            seconds = time.perf_counter() - t0
            with torch.no_grad():
                optimised = model.generate(shapes, best).image
            row = {
                "face": sample.get("name", str(index)),
                "encoder": float(rec.psnr(encoded, real)),
                "optimised_codes": float(rec.psnr(optimised, real)),
                "class_mean": float(rec.psnr(class_mean_paint(real, onehot), real)),
                "seconds": round(seconds, 2),
            }
            rows.append(row)
            print(f"{split:5s} {row['face']:>12s}  encoder {row['encoder']:5.2f} dB  optimised codes "
                  f"{row['optimised_codes']:5.2f} dB  class means {row['class_mean']:5.2f} dB", flush=True)
        summary = {k: statistics.mean(r[k] for r in rows) for k in ("encoder", "optimised_codes", "class_mean")}
        summary["gap_db"] = summary["optimised_codes"] - summary["encoder"]
        summary["seconds_per_face"] = statistics.median(r["seconds"] for r in rows)
        report["splits"][split] = {"faces": rows, "mean": summary}
        print(f"{split}: encoder {summary['encoder']:.2f} dB, optimised codes {summary['optimised_codes']:.2f} dB "
              f"(gap {summary['gap_db']:.2f} dB), class means {summary['class_mean']:.2f} dB", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default=str(ROOT / "models" / "demo-128.safetensors"))
    ap.add_argument("--data", required=True, help="a folder with train/ and test/ splits")
    ap.add_argument("--splits", nargs="+", default=["train", "test"])
    ap.add_argument("--faces", type=int, default=8, help="faces per split, spread over its sorted names")
    ap.add_argument("--steps", type=int, default=60, help="Adam steps on one face's codes")
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write the report here")
    args = ap.parse_args(argv)
    if args.faces < 1 or args.steps < 1:
        ap.error("--faces and --steps must be at least 1")
    write_report(args.json, run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
