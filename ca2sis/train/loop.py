"""The training loop: set-up, the iteration, validation, checkpoints and resume.

``Trainer(cfg, model_config, run_dir).train()`` runs either stage on one process or under torchrun.
Checkpoint policy (rank 0 writes, every rank reads):
- ``checkpoints/last.safetensors``: the initial state before the first step of a new run, the first
  progress after ``first_checkpoint_s`` (30 s), then every ``checkpoint_every`` steps or
  ``checkpoint_minutes``, whichever comes first, and when the run stops. So a run killed at any
  moment once it has started training resumes (rank 0's clock decides for every rank);
- ``checkpoints/best.safetensors`` when the reconstruction L1 on a fixed held-out batch (the test
  split's first ``val_batch`` samples, or the training set's without augmentation) is the lowest yet
  (main stage only; the mapping stage keeps ``last``);
- ``generator.safetensors`` at every checkpoint: the generator for users (EMA weights when ``--ema``),
  loadable with ``ca2sis.checkpoint.load_model`` / ``main.py render --weights``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from tqdm import tqdm

from ca2sis.checkpoint import load_model, save_model
from ca2sis.classes import ClassTable
from ca2sis.config import ModelConfig
from ca2sis.data import DataError, DataSpec, collate, open_dataset
from ca2sis.model import CA2SIS
from ca2sis.nn.discriminator import MultiscaleDiscriminator
from ca2sis.tensors import one_hot
from ca2sis.train import state as ckpt
from ca2sis.train.augment import DiffAugment
from ca2sis.train.config import TrainConfig, resolve_policy
from ca2sis.train.distributed import (
    DistInfo,
    ResumableSampler,
    all_reduce_mean,
    average_gradients,
    average_parameters,
    barrier,
    broadcast_object,
)
from ca2sis.train.ema import EMA, start_share
from ca2sis.train.logger import RunLogger
from ca2sis.train.perceptual import build_perceptual
from ca2sis.train.rundir import BEST, GENERATOR, LAST
from ca2sis.train.steps import (
    Nets,
    discriminator_losses,
    generator_losses,
    mapping_losses,
    random_styles,
    reconstruct,
)

log = logging.getLogger("ca2sis.train")
# A run whose EMA still holds this much of the generator at --ema-start when it ends gets a warning.
EMA_START_SHARE_WARNING = 0.2


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is left as it was."""


def load_main_discriminator(source: str, D: torch.nn.Module) -> Path:
    """Copy the main run's D (``--from RUN``'s ``checkpoints/last``) into ``D``; returns the file used."""
    path = Path(source) / "checkpoints" / LAST
    if not path.is_file():
        raise FileNotFoundError(f"--d-from-main: --from {source} is not a run folder with checkpoints/{LAST}")
    tensors, _ = ckpt.load_state(path)
    try:
        D.load_state_dict(ckpt.split_prefix(tensors, "D"))
    except RuntimeError as err:
        raise ValueError(f"--d-from-main: the D in {path} does not match this run's --d-* settings ({err})") from err
    return path


def load_generator_weights(source: str, G: CA2SIS) -> Path:
    """Copy a generator file's weights into ``G`` (``--init-generator``); the architectures must match."""
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"--init-generator {source}: no such file")
    model, _, _ = load_model(path)
    if model.config != G.config:
        raise ValueError(f"--init-generator {source} is a {model.config.name} model; this run trains {G.config.name} "
                         "with a different configuration")
    G.load_state_dict(model.state_dict())
    return path


def load_frozen_generator(source: str) -> CA2SIS:
    """The mapping stage's G: a run folder (its generator export) or a weights file."""
    path = Path(source)
    if path.is_dir():
        path = path / GENERATOR
    if not path.is_file():
        raise FileNotFoundError(f"--from {source}: no generator weights at {path}")
    model, _, _ = load_model(path)
    return model


class GracefulInterrupt:
    """The first Ctrl-C asks the loop to checkpoint and stop after the current step; a second one stops at once.

    Only in single-process runs: with several processes, ranks would see the signal at different
    steps and wait for each other in the checkpoint's collectives.
    """

    def __init__(self, enabled: bool) -> None:
        self.requested = False
        self._previous = None
        if enabled and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupt: saving a checkpoint after this step (Ctrl-C again to stop at once)")

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        model_config: ModelConfig,
        run_dir: Path,
        info: DistInfo | None = None,
        device: torch.device | None = None,
        resume: bool = False,
    ) -> None:
        self.cfg, self.run_dir = cfg, Path(run_dir)
        self.info = info or DistInfo()
        self.device = device or torch.device("cpu")
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and self.device.type == "cuda")
        if self.bf16 and self.device.type != "cuda":
            raise ValueError("bf16 mixed precision is for CUDA devices; use --precision fp32 on a CPU")
        self.mapping_stage = cfg.stage == "mapping"
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        if self.mapping_stage:
            self.G = load_frozen_generator(cfg.from_run or "")
            model_config = self.G.config
        else:
            self.G = CA2SIS(model_config)
            if cfg.init_generator and not resume:
                log.info("G starts from %s", load_generator_weights(cfg.init_generator, self.G))
        self.model_config = model_config
        self.G.to(self.device).train()
        self.G.set_gradient_checkpointing(cfg.gradient_checkpointing)
        self.D = MultiscaleDiscriminator(model_config.num_classes, cfg.d_width, cfg.d_layers, cfg.d_scales)
        if self.mapping_stage and cfg.d_from_main and not resume:
            log.info("D starts from %s", load_main_discriminator(cfg.from_run or "", self.D))
        self.D.to(self.device).train()
        self._setup_data()
        # "auto" is resolved once, from the data set's size, and recorded in the run's config.json.
        cfg.diffaugment = resolve_policy(cfg.diffaugment, len(self.train_set))
        self.augment = DiffAugment(cfg.diffaugment, seed=cfg.seed * 7919 + 1 + self.info.rank)
        self._setup_optimizers()
        self.perceptual = None
        if not self.mapping_stage:
            self.perceptual = build_perceptual(cfg.perceptual, cfg.vgg_weights, cfg.download)
            if self.perceptual is not None:
                self.perceptual.to(self.device)
        self.ema = EMA(self.G, cfg.ema_beta, cfg.ema_start, cfg.ema_every) if cfg.ema else None
        # Noise for the mapping stage: its own generator, so its state can be saved and restored.
        self.noise = torch.Generator(device="cpu").manual_seed(cfg.seed * 1000 + self.info.rank)
        self.step, self.best = 0, math.inf
        self._last_checkpoint, self._timed_interval = time.monotonic(), cfg.first_checkpoint_s
        if resume:
            self.load(self.run_dir / "checkpoints" / LAST)
        elif self.mapping_stage and cfg.mapping_init == "data":
            self._fit_mapping()
        self.nets = self._wrap()
        self.logger = RunLogger(self.run_dir, self.info.is_main)

    # -- set-up ---------------------------------------------------------------------------------
    def _setup_data(self) -> None:
        cfg, res = self.cfg, self.model_config.resolution
        spec = DataSpec(Path(cfg.data), cfg.dataset, cfg.num_classes or self.model_config.num_classes)
        self.train_set = open_dataset(
            spec,
            "train",
            res,
            train=True,
            flip=cfg.flip,
            swap_left_right=cfg.swap_left_right,
            strict=cfg.strict_data,
            seed=cfg.seed,
        )
        if self.train_set.num_classes != self.model_config.num_classes:
            raise DataError(
                f"the data has {self.train_set.num_classes} classes, the model {self.model_config.num_classes}"
            )
        try:
            val_set = open_dataset(spec, "test", res, train=False, strict=cfg.strict_data)
        except DataError:
            val_set = open_dataset(spec, "train", res, train=False, strict=cfg.strict_data)
        n = min(cfg.val_batch, len(val_set))
        self.val = collate([val_set[i] for i in range(n)])
        self.sampler = ResumableSampler(self.train_set, self.info, cfg.seed)
        self.steps_per_epoch = len(self.sampler) // cfg.batch_size
        if self.steps_per_epoch == 0:
            raise DataError(
                f"{len(self.train_set)} training samples over {self.info.world_size} process(es) "
                f"do not fill one batch of {cfg.batch_size}"
            )
        self.total_steps = (cfg.epochs + cfg.epochs_decay) * self.steps_per_epoch
        if cfg.max_steps is not None:
            self.total_steps = min(self.total_steps, cfg.max_steps)

    def _setup_optimizers(self) -> None:
        cfg = self.cfg
        for p in self.G.parameters():
            p.requires_grad_(False)
        trained = self.G.mapping if self.mapping_stage else self.G
        if cfg.style_encoder_only:
            trained = self.G.style_encoder
        for p in trained.parameters():
            p.requires_grad_(True)
        if not self.mapping_stage:
            # The recipe never trains the mapping network in the main stage (it gets no gradient).
            for p in self.G.mapping.parameters():
                p.requires_grad_(False)
        self.g_params = [p for p in self.G.parameters() if p.requires_grad]
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.g_params, lr=cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=betas)

    def _wrap(self) -> Nets:
        G_ddp, D_ddp = self.G, self.D
        if self.info.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            D_ddp = DDP(self.D, device_ids=ids)
            if not self.mapping_stage:  # the mapping stage averages its gradients by hand
                G_ddp = DDP(self.G, device_ids=ids)
        return Nets(self.G, self.D, G_ddp, D_ddp, self.perceptual, self.augment if self.augment.enabled else None,
                    self._texture_ids())

    def _texture_ids(self) -> tuple[int, ...]:
        """The ids of --texture-classes in the data set's class table (a clear error for unknown names)."""
        if not self.cfg.lambda_texture:
            return ()
        table = self.train_set.classes or ClassTable.generic(self.model_config.num_classes)
        try:
            return tuple(sorted({table.by_name(name).id for name in self.cfg.texture_classes}))
        except KeyError as e:
            raise DataError(f"--texture-classes: {e.args[0]}") from None

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- the loop -------------------------------------------------------------------------------
    def _set_lr(self) -> float:
        factor = self.cfg.lr_factor(self.step / self.steps_per_epoch)
        for g in self.opt_g.param_groups:
            g["lr"] = self.cfg.lr_g * factor
        for g in self.opt_d.param_groups:
            g["lr"] = self.cfg.lr_d * factor
        return factor

    def _check_finite(self, terms: dict[str, torch.Tensor]) -> None:
        values = torch.stack([v.detach().float() for v in terms.values()])
        bad = (~torch.isfinite(values)).any().float()
        if self.info.enabled:  # every rank must stop together, or the others would hang in a collective
            torch.distributed.all_reduce(bad)
        if bad.item():
            names = [f"{k}={v.item():.4g}" for k, v in terms.items()]
            raise TrainingDiverged(
                f"step {self.step}: a loss is not finite ({', '.join(names)}); training stopped and the last "
                f"good checkpoint ({self.run_dir / 'checkpoints' / LAST}) is unchanged. Try a lower learning "
                "rate or --precision fp32."
            )

    def _warn_short_ema(self) -> None:
        """Say so when the run ends before its EMA forgets where it started.

        A continued run whose EMA starts when G starts learning (or a discriminator warm-up that ends
        there) exports a blend of the starting generator and the trained one; with β 0.998 and 375
        generator steps, 47 % of the exported weights are the start's.
        """
        cfg = self.cfg
        if self.ema is None or self.total_steps <= cfg.ema_start:
            return
        share = start_share(cfg.ema_beta, cfg.ema_start, cfg.ema_every, self.total_steps)
        if share < EMA_START_SHARE_WARNING:
            return
        frozen = cfg.d_warmup_steps >= cfg.ema_start
        log.warning(
            "EMA: at the last step (%d) the exported weights still hold %.0f %% of the generator as it was at "
            "step %d%s (β %g has a time constant of about %d steps, and only %d steps follow --ema-start); "
            "a smaller --ema-beta, such as %g, lets the average follow the training",
            self.total_steps,
            100 * share,
            cfg.ema_start,
            ", the starting generator, since the warm-up freezes it until then" if frozen else "",
            cfg.ema_beta,
            round(1 / (1 - cfg.ema_beta)),
            self.total_steps - cfg.ema_start,
            max(0.0, round(1 - 4 / (self.total_steps - cfg.ema_start), 4)),
        )

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        image = batch["image"].to(self.device, non_blocking=True)
        onehot = one_hot(batch["label"].to(self.device), self.model_config.num_classes)
        self._set_lr()
        if self.step < self.cfg.d_warmup_steps:  # D alone learns against the frozen generator
            self.step += 1
            if self.ema is not None:
                self.ema.update(self.G, self.step)
            with self.autocast():
                fake = reconstruct(self.G, image, onehot)
            return self._discriminator_step(fake, image, onehot, {})
        self.D.requires_grad_(False)  # G step: no gradient for D's weights
        if self.mapping_stage:
            z1 = torch.randn(image.shape[0], self.model_config.mapping_dim, generator=self.noise)
            z2 = torch.randn(image.shape[0], self.model_config.mapping_dim, generator=self.noise)
            total_g, fake, g_terms = mapping_losses(
                self.nets, self.cfg, onehot, image, z1.to(self.device), z2.to(self.device), self.autocast()
            )
        else:
            total_g, g_terms = generator_losses(self.nets, self.cfg, image, onehot, self.autocast())
        self._check_finite(g_terms)
        self.opt_g.zero_grad(set_to_none=True)
        total_g.backward()
        if self.mapping_stage:
            average_gradients(self.g_params, self.info)
        self.opt_g.step()

        self.step += 1
        if self.ema is not None:
            self.ema.update(self.G, self.step)
        if not self.cfg.trains_discriminator:
            return {k: float(v.detach()) for k, v in g_terms.items()}

        if not self.mapping_stage:
            with self.autocast():
                fake = reconstruct(self.G, image, onehot)
        return self._discriminator_step(fake, image, onehot, g_terms)

    def _discriminator_step(
        self, fake: torch.Tensor, image: torch.Tensor, onehot: torch.Tensor, g_terms: dict[str, torch.Tensor]
    ) -> dict[str, float]:
        self.D.requires_grad_(True)
        total_d, d_terms = discriminator_losses(self.nets, fake, image, onehot, self.autocast())
        self._check_finite(d_terms)
        self.opt_d.zero_grad(set_to_none=True)
        total_d.backward()
        self.opt_d.step()
        return {k: float(v.detach()) for k, v in {**g_terms, **d_terms}.items()}

    def _fit_mapping(self, faces: int = 400) -> None:
        from ca2sis.train.mapping_init import init_mapping_from_data

        limit = max(1, faces // (self.cfg.batch_size * self.info.world_size))

        def batches():
            for i, batch in enumerate(self._loader(0, 0)):
                if i >= limit:
                    return
                label = batch["label"].to(self.device)
                yield batch["image"].to(self.device), one_hot(label, self.model_config.num_classes)

        with self.autocast():
            init_mapping_from_data(self.G, batches())
        average_parameters(list(self.G.mapping.parameters()), self.info)

    def _loader(self, epoch: int, skip_batches: int) -> DataLoader:
        self.train_set.set_epoch(epoch)
        self.sampler.set_position(epoch, skip_batches * self.cfg.batch_size)
        return DataLoader(
            self.train_set,
            batch_size=self.cfg.batch_size,
            sampler=self.sampler,
            drop_last=True,
            num_workers=self.cfg.workers,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(self.cfg.seed),  # keeps the global RNG untouched
        )

    def train(self) -> dict[str, Any]:
        cfg, info = self.cfg, self.info
        log.info(
            "training %s (%s stage) on %d samples, %d steps per epoch, %d steps to go, device %s, %d process(es)",
            self.model_config.name,
            cfg.stage,
            len(self.train_set),
            self.steps_per_epoch,
            self.total_steps - self.step,
            self.device,
            info.world_size,
        )
        self._warn_short_ema()
        bar = tqdm(total=self.total_steps, initial=self.step, disable=not info.is_main, unit="step", dynamic_ncols=True)
        history: list[dict[str, float]] = []
        t0, seen = time.perf_counter(), 0
        interrupt = GracefulInterrupt(enabled=info.world_size == 1)
        if self.total_steps == 0:  # mapping stage, --max-steps 0: export the data-fitted mapping as it is
            self.checkpoint()
        elif self.step == 0:  # a new run: resumable from its first second of training
            self.checkpoint(initial=True)
        self._last_checkpoint = time.monotonic()
        self._timed_interval = cfg.first_checkpoint_s
        try:
            while self.step < self.total_steps:
                epoch, offset = divmod(self.step, self.steps_per_epoch)
                for batch in self._loader(epoch, offset):
                    losses = self.train_step(batch)
                    seen += batch["image"].shape[0] * info.world_size
                    rate = seen / max(time.perf_counter() - t0, 1e-9)
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()} | {"img/s": f"{rate:.2f}"})
                    if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                        losses = all_reduce_mean(losses, info, self.device)
                        self.logger.scalars(self.step, losses, "loss/")
                        self.logger.scalars(self.step, {"lr_factor": self._set_lr(), "images_per_s": rate}, "train/")
                        history.append({"step": self.step, **losses})
                        log.info(
                            "step %d  %s  %.2f img/s",
                            self.step,
                            "  ".join(f"{k} {v:.4f}" for k, v in losses.items()),
                            rate,
                        )
                    if self.step % cfg.image_every == 0:
                        self.log_images()
                    if self._checkpoint_due():
                        self.checkpoint()
                    elif interrupt.requested:
                        # Ctrl-C between two steps: keep the work done since the last checkpoint.
                        self.checkpoint()
                    if interrupt.requested:
                        raise KeyboardInterrupt
                    if self.step >= self.total_steps:
                        break
        finally:
            interrupt.restore()
            bar.close()
            self.logger.close()
        return {"step": self.step, "best_val_l1": self.best, "history": history}

    # -- validation, images, checkpoints ----------------------------------------------------------
    def export_model(self) -> CA2SIS:
        return self.ema.shadow if self.ema is not None else self.G  # type: ignore[return-value]

    @torch.no_grad()
    def validate(self) -> float:
        """Mean reconstruction L1 on the fixed held-out batch (the "best" criterion)."""
        G = self.export_model()
        image = self.val["image"].to(self.device)
        onehot = one_hot(self.val["label"].to(self.device), self.model_config.num_classes)
        with self.autocast():
            fake = reconstruct(G, image, onehot)
        return float((fake.float() - image).abs().mean())

    @torch.no_grad()
    def log_images(self) -> None:
        if not self.info.is_main:
            return
        G = self.export_model()
        n = min(4, self.val["image"].shape[0])
        image = self.val["image"][:n].to(self.device)
        onehot = one_hot(self.val["label"][:n].to(self.device), self.model_config.num_classes)
        with self.autocast():
            shape = G.embed_mask(onehot)
            styles = G.encode_style(image, onehot)
            rows = {"real": image, "reconstruction": G.generate(shape, styles).image}
            if n > 1:  # everyone's mask with the next person's styles
                rows["style_swapped"] = G.generate(shape, styles.roll(1, dims=0)).image
            z = torch.randn(n, self.model_config.mapping_dim, generator=torch.Generator().manual_seed(0))
            rows["random_style"] = G.generate(shape, random_styles(G, onehot, z.to(self.device))).image
        self.logger.images(self.step, rows)

    def _checkpoint_due(self) -> bool:
        """Every ``checkpoint_every`` steps, at the end, or when the time since the last one is up."""
        cfg = self.cfg
        due = self.step % cfg.checkpoint_every == 0 or self.step == self.total_steps
        timed = time.monotonic() - self._last_checkpoint >= self._timed_interval
        if self.info.enabled:  # clocks differ between ranks: rank 0's decides, or they would wait forever
            timed = bool(broadcast_object(timed, self.info))
        return due or timed

    def checkpoint(self, initial: bool = False) -> None:
        """Save ``last`` (and ``best``, and the generator export). ``initial``: the state before the
        first step, saved without validation so that a new run is resumable at once."""
        self._last_checkpoint = time.monotonic()
        self._timed_interval = self.cfg.checkpoint_minutes * 60
        if initial:
            if self.info.is_main:
                self.save(self.run_dir / "checkpoints" / LAST)
                log.info("initial checkpoint (step 0): the run can be resumed from now on")
            barrier(self.info)
            return
        score = self.validate() if not self.mapping_stage else math.inf
        if self.info.is_main:
            self.logger.scalars(self.step, {"reconstruction_l1": score} if math.isfinite(score) else {}, "val/")
            improved = score < self.best
            self.best = min(self.best, score)
            folder = self.run_dir / "checkpoints"
            self.save(folder / LAST)
            if improved:
                self.save(folder / BEST)
            meta = {
                "step": str(self.step),
                "stage": self.cfg.stage,
                "data": str(self.cfg.data),
                "val_reconstruction_l1": f"{score:.6f}",
                "ema": str(self.ema is not None),
                # The editor offers random styles only from a mapping network trained in its stage.
                # "fitted": the data fit of --mapping-init data with no adversarial step after it.
                "mapping": ("trained" if self.step else "fitted") if self.mapping_stage else "untrained",
                "mapping_init": self.cfg.mapping_init if self.mapping_stage else "",
            }
            save_model(self.run_dir / GENERATOR, self.export_model(), meta)
            if math.isfinite(score):
                log.info("checkpoint at step %d (val L1 %.4f%s)", self.step, score, ", best so far" if improved else "")
            else:
                log.info("checkpoint at step %d", self.step)
        barrier(self.info)

    def save(self, path: Path) -> None:
        tensors: dict[str, torch.Tensor] = {}
        for prefix, sd in (("G", self.G.state_dict()), ("D", self.D.state_dict())):
            tensors.update({f"{prefix}/{k}": v for k, v in sd.items()})
        if self.ema is not None:
            tensors.update({f"EMA/{k}": v for k, v in self.ema.state_dict().items()})
        meta: dict[str, Any] = {
            "step": self.step,
            "best": self.best if math.isfinite(self.best) else None,
            "stage": self.cfg.stage,
            "model_config": self.model_config.to_dict(),
            "opt_g": ckpt.flatten_optimizer("opt_g", self.opt_g.state_dict(), tensors),
            "opt_d": ckpt.flatten_optimizer("opt_d", self.opt_d.state_dict(), tensors),
            "rng": ckpt.host_rng_state(),
        }
        tensors["rng/torch"] = torch.get_rng_state()
        tensors["rng/noise"] = self.noise.get_state()
        tensors["rng/augment"] = self.augment.state()
        if torch.cuda.is_available():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                tensors[f"rng/cuda/{i}"] = s
        ckpt.save_state(path, tensors, meta)

    def load(self, path: Path) -> None:
        tensors, meta = ckpt.load_state(path)
        if meta["stage"] != self.cfg.stage:
            raise ValueError(f"{path} is a {meta['stage']}-stage checkpoint; this run is {self.cfg.stage}")
        self.G.load_state_dict(ckpt.split_prefix(tensors, "G"))
        self.D.load_state_dict(ckpt.split_prefix(tensors, "D"))
        if self.ema is not None:
            ema = ckpt.split_prefix(tensors, "EMA")
            self.ema.load_state_dict(ema if ema else self.G.state_dict())
        self.opt_g.load_state_dict(ckpt.unflatten_optimizer("opt_g", meta["opt_g"], tensors))
        self.opt_d.load_state_dict(ckpt.unflatten_optimizer("opt_d", meta["opt_d"], tensors))
        torch.set_rng_state(tensors["rng/torch"])
        self.noise.set_state(tensors["rng/noise"])
        if "rng/augment" in tensors:  # checkpoints from before the augmentation existed have none
            self.augment.set_state(tensors["rng/augment"])
        cuda = [tensors[f"rng/cuda/{i}"] for i in range(torch.cuda.device_count()) if f"rng/cuda/{i}" in tensors]
        if cuda and len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
        ckpt.set_host_rng_state(meta["rng"])
        self.step = int(meta["step"])
        self.best = math.inf if meta["best"] is None else float(meta["best"])
        log.info("resumed from %s at step %d", path, self.step)
