"""Remove an EMA's starting generator from an exported one: the average of the weights a run trained.

    python docs/demo/unmix_ema.py --mixed EXPORT.safetensors --start START.safetensors \
        --ema-beta 0.998 --ema-start 300 --last-step 675 [--start-half] --out TRAINED_AVERAGE.safetensors

An EMA that starts from a trained generator keeps ``s = start_share(β, start, every, last step)`` of
it at the end (``ca2sis.train.ema.start_share``): the export is ``s·start + (1 − s)·average``. This
solves for the average, on the modules the run trained (``--modules``, by default the synthesis
network and the mask embedder); every other module keeps the export's weights. ``--start-half``
rounds the start through fp16 first, for a run that was sent an fp16 copy of it. The output's
metadata records the arithmetic and appends the export's own stage to its ``history``, so that
``docs/demo/export_model.py`` keeps the whole story of a run continued from it.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
sys.path.insert(0, str(ROOT / "docs" / "demo"))

from export_model import history_with  # noqa: E402

from ca2sis.checkpoint import CONFIG_KEY, FORMAT_KEY, load_model, save_model  # noqa: E402
from ca2sis.train.ema import start_share  # noqa: E402

DEFAULT_MODULES = ("generator", "mask_embedder")
MAX_SHARE = 0.95  # above this the division by 1 − s magnifies rounding into the weights


def unmix(mixed: dict[str, torch.Tensor], start: dict[str, torch.Tensor], share: float,
          modules: tuple[str, ...] = DEFAULT_MODULES, start_half: bool = False) -> dict[str, torch.Tensor]:
    """``(mixed − share·start) / (1 − share)`` on the floating-point weights of ``modules``."""
    if not 0 <= share <= MAX_SHARE:
        raise ValueError(f"the start's share must be between 0 and {MAX_SHARE}, got {share:.4f}")
    missing = sorted(k for k in mixed if k.split(".")[0] in modules and k not in start)
    if missing:
        raise ValueError(f"the start file lacks {len(missing)} weights of {', '.join(modules)}: {missing[0]}, ...")
    out = {}
    for key, value in mixed.items():
        if key.split(".")[0] in modules and value.is_floating_point():
            begin = start[key].half() if start_half else start[key]
            if begin.shape != value.shape:
                raise ValueError(f"{key}: {tuple(begin.shape)} in the start file, {tuple(value.shape)} in the export")
            value = ((value.double() - share * begin.double()) / (1 - share)).to(value.dtype)
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mixed", type=Path, required=True, help="the exported generator (an EMA)")
    ap.add_argument("--start", type=Path, required=True, help="the generator the EMA started from")
    ap.add_argument("--out", type=Path, required=True)
    share = ap.add_mutually_exclusive_group(required=True)
    share.add_argument("--share", type=float, help="the start's share of the export")
    share.add_argument("--ema-beta", type=float, help="the run's --ema-beta (with --ema-start and --last-step)")
    ap.add_argument("--ema-start", type=int, default=0)
    ap.add_argument("--ema-every", type=int, default=1)
    ap.add_argument("--last-step", type=int, help="the step the export was written at")
    ap.add_argument("--modules", default=",".join(DEFAULT_MODULES), help="comma-separated (default %(default)s)")
    ap.add_argument("--start-half", action="store_true", help="round the start through fp16 first")
    args = ap.parse_args(argv)
    if args.out.resolve() in (args.mixed.resolve(), args.start.resolve()):
        ap.error("--out must be a new file, not one of the inputs")
    if args.ema_beta is not None:
        if args.last_step is None:
            ap.error("--ema-beta needs --last-step")
        s = start_share(args.ema_beta, args.ema_start, args.ema_every, args.last_step)
    else:
        s = args.share
    model, _, meta = load_model(args.mixed)
    start, _, _ = load_model(args.start)
    modules = tuple(m.strip() for m in args.modules.split(",") if m.strip())
    try:
        state = unmix(model.state_dict(), start.state_dict(), s, modules, args.start_half)
    except ValueError as exc:
        raise SystemExit(f"unmix_ema: {exc}") from None
    model.load_state_dict(state)
    out_meta = {k: v for k, v in meta.items() if k not in (CONFIG_KEY, FORMAT_KEY)}
    out_meta.update({
        "source": f"{args.mixed.name} with its EMA's start ({args.start.name}, share {s:.4f}) removed from "
                  f"{', '.join(modules)}: (export − {s:.4f}·start) / {1 - s:.4f}",
        "step": meta.get("step", "?"),
        "hardware": "arithmetic on the weights (docs/demo/unmix_ema.py)",
        "trained_on": datetime.date.today().isoformat(),
        "history": history_with(meta),
    })
    save_model(args.out, model, out_meta)
    print(f"wrote {args.out}: the start's share {s:.4f} removed from {', '.join(modules)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
