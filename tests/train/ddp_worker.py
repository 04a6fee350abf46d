"""Run under torchrun by test_distributed.py: train the tiny preset briefly, write this rank's weight digest."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch

from ca2sis.config import preset
from ca2sis.train.config import TrainConfig
from ca2sis.train.distributed import init_distributed, shutdown_distributed
from ca2sis.train.loop import Trainer


def digest(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def main(out: Path, data: Path) -> None:
    torch.set_num_threads(1)
    info, device = init_distributed("cpu")
    cfg = TrainConfig(
        data=str(data),
        preset="tiny",
        perceptual="off",
        workers=0,
        max_steps=2,
        batch_size=1,
        log_every=1,
        image_every=1000,
        checkpoint_every=1000,
        val_batch=1,
    )
    trainer = Trainer(cfg, preset("tiny"), out / "run", info, device)
    start = digest(trainer.G)
    seen: list[int] = []
    real_step = trainer.train_step

    def recording_step(batch):
        seen.extend(int(i) for i in batch["index"])
        return real_step(batch)

    trainer.train_step = recording_step  # type: ignore[method-assign]
    trainer.train()
    report = {"G": digest(trainer.G), "D": digest(trainer.D), "G_start": start, "seen": seen}
    (out / f"rank{info.rank}.json").write_text(json.dumps(report))
    shutdown_distributed()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
