"""``main.py train``: train (CA)²-SIS (main stage) or its diversity mapping network (``--stage mapping``).

Examples::

    python main.py train --data datasets/CelebA-HQ --preset celebamask-256 --run-dir runs
    python main.py train --data DIR --preset tiny --max-steps 20 --perceptual off --dry-run
    python main.py train --run-dir runs --resume                       # newest run, from its last checkpoint
    python main.py train --stage mapping --from runs/00000-celebamask-256-CelebA-HQ --data DIR
    torchrun --nproc-per-node 8 main.py train --data DIR --run-dir runs   # one process per GPU
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from ca2sis.train.config import PRECISIONS, STAGES, TrainConfig

log = logging.getLogger("ca2sis.train")

# option → TrainConfig field, for options whose name does not map directly.
RENAMED = {"from": "from_run"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    g = parser.add_argument_group("data")
    g.add_argument("--data", help="data folder (CelebAMask-HQ preprocessed or raw, images+labels folder, ADE20k)")
    g.add_argument("--dataset", choices=("auto", "celebamask", "folder", "ade20k", "deepfashion"))
    g.add_argument("--num-classes", type=int, help="class count for folder/deepfashion data (default: the preset's)")
    g.add_argument("--no-flip", dest="flip", action="store_false", default=None, help="no horizontal flips")
    g.add_argument(
        "--no-swap-left-right",
        dest="swap_left_right",
        action="store_false",
        default=None,
        help="on a flip keep l_eye/r_eye etc. as they are (the authors' behaviour)",
    )
    g.add_argument("--strict-data", action="store_true", default=None, help="stop at the first bad file")
    g.add_argument("--workers", type=int, help=f"data loader processes (default {d.workers})")

    g = parser.add_argument_group("run")
    g.add_argument("--preset", help=f"model preset (default {d.preset}); see ca2sis.config.PRESETS")
    g.add_argument("--run-dir", default="runs", help="root folder; each run gets a numbered subfolder (default runs)")
    g.add_argument("--resume", nargs="?", const="latest", help="continue the newest run under --run-dir (or RUN)")
    g.add_argument("--stage", choices=STAGES, help="main: G and D; mapping: the diversity mapping network")
    g.add_argument("--from", dest="from_run", help="mapping stage: the main-stage run folder or generator file")
    g.add_argument("--d-from-main", action="store_true", default=None,
                   help="mapping stage: start D from the --from run's last checkpoint, not from scratch")
    g.add_argument("--mapping-init", choices=("random", "data"),
                   help="mapping stage: 'data' fits the mapping network to the real style codes before "
                        "training (default random, as in the recipe)")
    g.add_argument("--max-steps", type=int, help="stop after this many steps (the LR schedule still follows epochs)")
    g.add_argument("--dry-run", action="store_true", help="print the resolved configuration and exit")
    g.add_argument("--device", help="auto (default), cpu, cuda, cuda:1 ...")
    g.add_argument("--threads", type=int, help="CPU threads per process (default: torch's choice)")
    g.add_argument("--precision", choices=PRECISIONS, help="auto: bf16 autocast on CUDA, fp32 elsewhere")
    g.add_argument("--gradient-checkpointing", action="store_true", default=None)
    g.add_argument("--seed", type=int)
    g.add_argument("--log-every", type=int, help=f"steps between scalar logs (default {d.log_every})")
    g.add_argument("--image-every", type=int, help=f"steps between image grids (default {d.image_every})")
    g.add_argument("--checkpoint-every", type=int, help=f"steps between checkpoints (default {d.checkpoint_every})")
    g.add_argument("--checkpoint-minutes", type=float,
                   help=f"minutes between checkpoints, whichever comes first (default {d.checkpoint_minutes})")
    g.add_argument("--first-checkpoint-seconds", dest="first_checkpoint_s", type=float,
                   help=f"the first checkpoint with progress comes this early (default {d.first_checkpoint_s:.0f} s; "
                        "the state before the first step is saved at once)")
    g.add_argument("--val-batch", type=int, help=f"held-out samples for the 'best' criterion (default {d.val_batch})")

    g = parser.add_argument_group("recipe")
    g.add_argument("--batch-size", type=int, help=f"per process (default {d.batch_size})")
    g.add_argument("--epochs", type=int, help=f"epochs at full learning rate (default {d.epochs})")
    g.add_argument("--epochs-decay", type=int, help=f"epochs of linear decay to 0 (default {d.epochs_decay})")
    for name in (
        "lr_g",
        "lr_d",
        "beta1",
        "beta2",
        "lambda_gan",
        "lambda_feat",
        "lambda_perceptual",
        "lambda_att",
        "lambda_div",
        "lambda_l1",
        "l1_blur_sigma",
        "lambda_texture",
        "ema_beta",
    ):
        g.add_argument("--" + name.replace("_", "-"), type=float, help=f"default {getattr(d, name)}")
    g.add_argument("--texture-classes", metavar="NAMES", type=lambda text: tuple(n.strip() for n in text.split(",")),
                   help="classes of the --lambda-texture term, comma-separated (default: hair)")
    g.add_argument("--diffaugment", metavar="POLICY",
                   help="differentiable augmentation of D's inputs: auto (default: color,translation,cutout "
                        "below 5,000 training pairs, else off), off, or a list of color,translation,cutout")
    g.add_argument("--init-generator", metavar="FILE",
                   help="main stage: start G from this generator file (D and the optimisers start fresh)")
    g.add_argument("--style-encoder-only", action="store_true", default=None,
                   help="main stage, with --init-generator: train only the style encoder; the generator "
                        "keeps its weights (with --lambda-gan 0 --lambda-feat 0 no discriminator runs)")
    g.add_argument("--d-warmup-steps", type=int, metavar="N",
                   help="main stage, with --init-generator: the first N steps train only D, against the frozen "
                        "generator (default 0)")
    g.add_argument("--perceptual", choices=("vgg19", "inception", "off"), help="perceptual network (default vgg19)")
    g.add_argument("--vgg-weights", help="path to torchvision's vgg19-dcbb9e9d.pth")
    g.add_argument(
        "--no-download", dest="download", action="store_false", default=None, help="never download the VGG19 file"
    )
    g.add_argument("--ema", action="store_true", default=None, help="keep an EMA of G and export it")
    g.add_argument("--ema-start", type=int)
    g.add_argument("--ema-every", type=int)
    g.add_argument("--d-scales", type=int)
    g.add_argument("--d-layers", type=int)
    g.add_argument("--d-width", type=int)


def _given(args: argparse.Namespace) -> dict[str, object]:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return {k: v for k, v in vars(args).items() if k in fields and v is not None}


def resolve(args: argparse.Namespace):
    """(train config, model config, run dir, resume?) from the options (and a resumed run's config.json)."""
    from ca2sis.config import ModelConfig, preset
    from ca2sis.data.layouts import DataSpec, detect_kind, resolve_num_classes
    from ca2sis.train.rundir import CONFIG_FILE, find_resumable, next_run_dir, read_json

    root = Path(args.run_dir)
    given = _given(args)
    if args.resume:
        run = find_resumable(root, args.resume)
        saved = read_json(run / CONFIG_FILE)
        if not isinstance(saved, dict) or not all(isinstance(saved.get(k), dict) for k in ("train", "model")):
            raise ValueError(f"{run / CONFIG_FILE} is not a run's configuration (no train and model settings)")
        cfg = TrainConfig.from_dict({**saved["train"], **given})  # options given now win (e.g. --max-steps)
        return cfg, ModelConfig.from_dict(saved["model"]), run, True
    if not given.get("data"):
        raise ValueError("--data DIR is required (or --resume to continue a run)")
    cfg = TrainConfig(**given)  # type: ignore[arg-type]
    data_root = Path(cfg.data)
    if not data_root.is_dir():
        raise FileNotFoundError(f"--data {data_root}: no such folder")
    kind = detect_kind(data_root) if cfg.dataset == "auto" else cfg.dataset
    model = preset(cfg.preset)
    n = resolve_num_classes(DataSpec(data_root, kind, cfg.num_classes or None), kind)
    if n != model.num_classes:
        model = preset(cfg.preset, num_classes=n)
    if cfg.stage == "mapping":
        model = _frozen_config(cfg.from_run or "", model)
        cfg.preset = model.name  # the frozen generator decides the model, whatever --preset says
    return cfg, model, next_run_dir(root, cfg.preset, cfg.data, cfg.stage), False


def _frozen_config(source: str, fallback):
    from ca2sis.checkpoint import CONFIG_KEY, read_metadata
    from ca2sis.config import ModelConfig
    from ca2sis.train.rundir import GENERATOR

    path = Path(source) / GENERATOR if Path(source).is_dir() else Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"--from {source}: no generator weights at {path}")
    meta = read_metadata(path)
    return ModelConfig.from_json(meta[CONFIG_KEY]) if CONFIG_KEY in meta else fallback


def run(args: argparse.Namespace) -> int:
    from ca2sis.data import DataError
    from ca2sis.train.perceptual import PerceptualWeightsMissing, find_vgg19_weights
    from ca2sis.train.state import CorruptCheckpoint

    try:
        cfg, model_config, run_dir, resume = resolve(args)
        if args.dry_run:
            print(
                json.dumps(
                    {
                        "run_dir": str(run_dir),
                        "resume": resume,
                        "model": model_config.to_dict(),
                        "train": cfg.to_dict(),
                    },
                    indent=2,
                )
            )
            return 0
        if cfg.perceptual == "vgg19" and cfg.stage == "main":  # fail before anything is created
            cfg.vgg_weights = str(find_vgg19_weights(cfg.vgg_weights, cfg.download))
        return _train(cfg, model_config, run_dir, resume)
    except (DataError, PerceptualWeightsMissing, CorruptCheckpoint, FileNotFoundError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _train(cfg: TrainConfig, model_config, run_dir: Path, resume: bool) -> int:
    from ca2sis.train.distributed import broadcast_object, init_distributed, shutdown_distributed
    from ca2sis.train.logger import setup_logging
    from ca2sis.train.loop import Trainer, TrainingDiverged
    from ca2sis.train.rundir import CONFIG_FILE, write_json

    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    info, device = init_distributed(cfg.device)
    try:
        run_dir = Path(broadcast_object(str(run_dir), info))  # type: ignore[arg-type]
        if info.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
        setup_logging(run_dir, info.is_main)
        log.info("run folder %s%s", run_dir, " (resuming)" if resume else "")
        trainer = Trainer(cfg, model_config, run_dir, info, device, resume=resume)
        if info.is_main:  # after the trainer resolved what depends on the data (the augmentation policy)
            write_json(run_dir / CONFIG_FILE, {"model": model_config.to_dict(), "train": cfg.to_dict()})
        if not cfg.trains_discriminator:
            log.info("no adversarial terms (λ_gan = λ_feat = 0): the discriminator is not trained")
        else:
            log.info("augmentation of D's inputs: %s", cfg.diffaugment)
        if cfg.style_encoder_only:
            log.info("only the style encoder learns; the rest of G keeps %s", cfg.init_generator)
        try:
            summary = trainer.train()
        except TrainingDiverged as exc:
            log.error("%s", exc)
            return 1
        except KeyboardInterrupt:
            log.warning("interrupted at step %d; resume with --resume %s", trainer.step, run_dir)
            return 130
        log.info("done at step %d; generator: %s", summary["step"], run_dir / "generator.safetensors")
        return 0
    finally:
        shutdown_distributed()
