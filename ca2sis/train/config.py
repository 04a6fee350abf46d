"""The training configuration: every recipe setting as a typed, validated, JSON-serialisable field.

Defaults are the authors' CelebAMask-HQ recipe (batch 2, Adam(0, 0.9), lr G 1e-4 / D 4e-4, 50 + 50
epochs, λ_feat = λ_perceptual = 10, λ_att = 1, two-scale three-layer discriminator).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

# Differentiable augmentation policies (ca2sis.train.augment holds the transforms).
FAMILIES = ("color", "translation", "cutout")
DEFAULT_POLICY = "color,translation,cutout"
MAX_L1_BLUR_SIGMA = 16.0  # pixels: wider, the blurred L1 would compare little more than mean colours
AUTO_LIMIT = 5000  # "auto" switches the augmentation on for data sets smaller than this many pairs


def parse_policy(text: str) -> tuple[str, ...]:
    """``"off"``/``""`` → (); ``"color,translation,cutout"`` → the families in canonical order."""
    text = text.strip().lower()
    if text in ("", "off", "none"):
        return ()
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise ValueError(
            f"unknown diffaugment transform(s) {', '.join(unknown)}; choose from {', '.join(FAMILIES)}, or off"
        )
    return tuple(f for f in FAMILIES if f in names)


def resolve_policy(text: str, num_pairs: int) -> str:
    """The policy a run records: ``auto`` becomes the default policy below :data:`AUTO_LIMIT` pairs, else off."""
    if text.strip().lower() == "auto":
        return DEFAULT_POLICY if num_pairs < AUTO_LIMIT else "off"
    families = parse_policy(text)
    return ",".join(families) if families else "off"


STAGES = ("main", "mapping")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class TrainConfig:
    # what to train on
    data: str = ""
    dataset: str = "auto"  # auto | celebamask | folder | ade20k | deepfashion
    num_classes: int | None = None  # None: the data set's own count
    preset: str = "celebamask-256"
    stage: str = "main"  # main: G and D; mapping: the diversity mapping network with G frozen
    from_run: str | None = None  # mapping stage: the run (or generator file) whose G is frozen
    # Mapping stage: start D from the main run's D; the recipe starts it from scratch.
    d_from_main: bool = False
    # Mapping stage: "data" first fits each class head to the mean and spread of the real style codes
    # (ca2sis.train.mapping_init); "random" keeps the fresh initialisation, as the recipe does.
    mapping_init: str = "random"
    # Main stage: start G from this generator file (weights only; D and the optimisers start fresh).
    init_generator: str | None = None
    # Main stage: only the style encoder learns; the mask embedder and the synthesis network keep
    # --init-generator's weights. The renders stay on that generator's output manifold while the
    # encoder learns to find the codes that reproduce a photo (measured on the bundled demo model:
    # codes optimised per face reconstruct it 3 dB better than the encoder's).
    style_encoder_only: bool = False
    # Main stage, with --init-generator: for this many first steps only D learns, against the frozen
    # generator, so that the trained G does not start learning from a fresh, random discriminator
    # (whose hinge and feature-matching terms are noise until it has learned something).
    d_warmup_steps: int = 0
    # schedule
    batch_size: int = 2  # per process
    epochs: int = 50  # at the full learning rate
    epochs_decay: int = 50  # then linear decay to zero
    max_steps: int | None = None  # stop early (a smoke run); the schedule still follows the epochs
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.9
    # loss weights
    lambda_gan: float = 1.0
    lambda_feat: float = 10.0
    lambda_perceptual: float = 10.0
    lambda_att: float = 1.0
    lambda_div: float = 1.0  # mapping stage only
    # Not in the recipe: a pixel L1 reconstruction term for G (0 = off, the recipe).
    lambda_l1: float = 0.0
    # The L1 term on images blurred by a Gaussian of this σ (pixels; 0 = unblurred). It then asks for
    # the photo's colours and shading but not for where each fine strand or pore lies, which the
    # per-class styles cannot know: an unblurred L1 is lowest for a render with that texture
    # smoothed away, a blurred one leaves the texture to the adversarial terms.
    l1_blur_sigma: float = 0.0
    # Not in the recipe: a texture term (Gram matrices of the perceptual network's finest features,
    # ca2sis.train.losses.texture_loss) inside the classes named here, weighted by λ_texture (0 = off).
    lambda_texture: float = 0.0
    texture_classes: tuple[str, ...] = ("hair",)
    # Differentiable augmentation of every D input (ca2sis.train.augment): "auto" (the default) is
    # "color,translation,cutout" for data sets under 5,000 pairs and "off" above; a run records the
    # policy it resolved to in its config.json.
    diffaugment: str = "auto"
    perceptual: str = "vgg19"  # vgg19 | inception | off
    vgg_weights: str | None = None
    download: bool = True  # fetch the VGG19 file when it is missing and the machine is online
    # discriminator
    d_scales: int = 2
    d_layers: int = 3
    d_width: int = 64
    # EMA of G
    ema: bool = False
    ema_beta: float = 0.9999
    ema_start: int = 100  # steps before the average starts (it copies G until then)
    ema_every: int = 10
    # data
    flip: bool = True
    swap_left_right: bool = True
    strict_data: bool = False
    workers: int = 2
    seed: int = 0
    # running
    precision: str = "auto"  # auto = bf16 autocast on CUDA, fp32 elsewhere
    gradient_checkpointing: bool = False
    device: str = "auto"
    threads: int | None = None  # CPU threads per process (None: torch's default); 1 on a busy shared machine
    log_every: int = 50
    image_every: int = 500
    checkpoint_every: int = 1000
    # Checkpoints by time as well as by steps, so that a run killed at any moment can resume: the
    # initial state before the first step, the first progress after first_checkpoint_s, then every
    # checkpoint_every steps or checkpoint_minutes, whichever comes first.
    first_checkpoint_s: float = 30.0
    checkpoint_minutes: float = 10.0
    val_batch: int = 8  # fixed held-out samples for the "best" criterion

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"unknown stage {self.stage!r}; choose one of: {', '.join(STAGES)}")
        if self.stage == "mapping" and not self.from_run:
            raise ValueError("the mapping stage needs --from RUN (a finished main-stage run or generator file)")
        if self.d_from_main and self.stage != "mapping":
            raise ValueError("--d-from-main is for the mapping stage")
        if self.mapping_init not in ("random", "data"):
            raise ValueError(f"unknown mapping initialisation {self.mapping_init!r}; choose random or data")
        if self.diffaugment.strip().lower() != "auto":
            parse_policy(self.diffaugment)  # raises on unknown transforms
        if self.init_generator and self.stage != "main":
            raise ValueError("--init-generator is for the main stage (the mapping stage takes --from)")
        if self.style_encoder_only and not (self.stage == "main" and self.init_generator):
            raise ValueError("--style-encoder-only refines a trained generator's encoder: it needs the main "
                             "stage and --init-generator FILE")
        if self.d_warmup_steps < 0:
            raise ValueError(f"d_warmup_steps must be ≥ 0, got {self.d_warmup_steps}")
        if self.d_warmup_steps and not (self.stage == "main" and self.init_generator and self.adversarial):
            raise ValueError("--d-warmup-steps trains a fresh discriminator against a trained generator: it "
                             "needs the main stage, --init-generator FILE and an adversarial term")
        if not (math.isfinite(self.l1_blur_sigma) and 0 <= self.l1_blur_sigma <= MAX_L1_BLUR_SIGMA):
            raise ValueError(f"--l1-blur-sigma must be between 0 and {MAX_L1_BLUR_SIGMA:g} pixels, "
                             f"got {self.l1_blur_sigma}")
        self.texture_classes = tuple(self.texture_classes)  # a list when read back from config.json
        if not (math.isfinite(self.lambda_texture) and self.lambda_texture >= 0):
            raise ValueError(f"--lambda-texture must be ≥ 0, got {self.lambda_texture}")
        if self.lambda_texture and self.perceptual == "off":
            raise ValueError("--lambda-texture compares the perceptual network's features: it needs --perceptual "
                             "vgg19 or inception")
        if self.lambda_texture and not self.texture_classes:
            raise ValueError("--lambda-texture needs at least one class in --texture-classes")
        if self.l1_blur_sigma and not self.lambda_l1:
            raise ValueError("--l1-blur-sigma blurs the L1 term: it needs --lambda-l1 W")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of: {', '.join(PRECISIONS)}")
        if self.perceptual not in ("vgg19", "inception", "off"):
            raise ValueError(f"unknown perceptual network {self.perceptual!r}; choose vgg19, inception or off")
        for name in ("batch_size", "log_every", "image_every", "checkpoint_every", "ema_every", "d_scales"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.epochs < 0 or self.epochs_decay < 0 or self.epochs + self.epochs_decay == 0:
            raise ValueError("epochs and epochs_decay must be ≥ 0 and not both 0")
        fit_only = self.stage == "mapping" and self.mapping_init == "data"  # 0 steps: keep just the fit
        if self.max_steps is not None and self.max_steps < (0 if fit_only else 1):
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}"
                             + ("" if fit_only else " (0 only for --stage mapping --mapping-init data)"))
        for name in ("first_checkpoint_s", "checkpoint_minutes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e7:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not 0.0 <= self.ema_beta < 1.0:
            raise ValueError(f"ema_beta must be in [0, 1), got {self.ema_beta}")

    @property
    def adversarial(self) -> bool:
        """Whether G's loss has a discriminator term; without one the discriminator is not trained."""
        return bool(self.lambda_gan or self.lambda_feat)

    @property
    def trains_discriminator(self) -> bool:
        """The mapping stage always does; the main stage only when G's loss has an adversarial term."""
        return self.stage == "mapping" or self.adversarial

    def lr_factor(self, epoch: float) -> float:
        """Constant for ``epochs``, then linear to 0 over ``epochs_decay`` (fractional epochs)."""
        if epoch < self.epochs or self.epochs_decay == 0:
            return 1.0
        return max(0.0, 1.0 - (epoch - self.epochs) / self.epochs_decay)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training config fields: {', '.join(sorted(unknown))}")
        return TrainConfig(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
