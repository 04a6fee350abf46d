"""What a run reports: a readable text log, TensorBoard scalars and image grids (rank 0 only)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

log = logging.getLogger("ca2sis.train")


class _TqdmHandler(logging.StreamHandler):
    """Console lines that do not tear the progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # logging must never stop training
            self.handleError(record)


def setup_logging(run_dir: Path | None, is_main: bool) -> None:
    """Console + ``RUN/train.log`` on rank 0; other ranks only report warnings."""
    root = logging.getLogger("ca2sis")
    root.setLevel(logging.INFO if is_main else logging.WARNING)
    for h in list(root.handlers):
        if getattr(h, "_ca2sis_train", False):
            root.removeHandler(h)
            h.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [_TqdmHandler()]
    if run_dir is not None and is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(run_dir / "train.log"))
    for h in handlers:
        h.setFormatter(fmt)
        h._ca2sis_train = True  # type: ignore[attr-defined]
        root.addHandler(h)


class RunLogger:
    """TensorBoard writer wrapper; a no-op on ranks other than 0 or when TensorBoard is missing."""

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.run_dir = run_dir
        self.writer = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(run_dir / "tensorboard"))
            except Exception as exc:  # tensorboard not installed or unwritable: keep training
                log.warning("TensorBoard logging is off: %s", exc)
        self.enabled = enabled

    def scalars(self, step: int, values: dict[str, float], prefix: str = "") -> None:
        if self.writer is None:
            return
        for k, v in values.items():
            self.writer.add_scalar(f"{prefix}{k}", v, step)

    def images(self, step: int, rows: dict[str, torch.Tensor]) -> None:
        """One grid: a row per entry (real / reconstruction / style-swapped ...), images in [-1, 1]."""
        if not self.enabled:
            return
        stacked = torch.cat([r.detach().float().cpu().clamp(-1, 1) for r in rows.values()], dim=0)
        n = next(iter(rows.values())).shape[0]
        grid = make_grid((stacked + 1) / 2, nrow=n, padding=2)
        if self.writer is not None:
            self.writer.add_image("samples/" + "|".join(rows), grid, step)
        samples = self.run_dir / "samples"
        samples.mkdir(exist_ok=True)
        save_image(grid, samples / f"{step:08d}.png")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
