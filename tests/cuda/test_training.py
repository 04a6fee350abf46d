"""Training on the device: main-stage and mapping-stage steps under bf16 autocast, a checkpoint that
comes back whole, and the evaluation of the result."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ca2sis.checkpoint import load_model, save_model
from ca2sis.config import preset
from ca2sis.data.synthetic import write_synthetic_pairs
from ca2sis.data.transforms import load_size_for
from ca2sis.evaluate import EvalConfig, evaluate
from ca2sis.model import CA2SIS
from ca2sis.train.config import TrainConfig
from ca2sis.train.loop import Trainer
from ca2sis.train.rundir import GENERATOR

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def preset_name(device: torch.device) -> str:
    # On a GPU the demo preset: its attention heads are wide enough for the fused bf16 kernels.
    return "demo-128" if device.type == "cuda" else "tiny"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, preset_name: str) -> Path:
    size = load_size_for(preset(preset_name).resolution)
    return write_synthetic_pairs(tmp_path_factory.mktemp("pairs"), count=4, size=size, seed=3)


def config(data: Path, preset_name: str, **changes: object) -> TrainConfig:
    base = dict(data=str(data), preset=preset_name, perceptual="off", workers=0, batch_size=2, max_steps=2,
                log_every=1, image_every=1000, checkpoint_every=1000, val_batch=2)
    return TrainConfig(**{**base, **changes})  # type: ignore[arg-type]


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_main_stage_steps_run_under_bf16_autocast_and_train_g_and_d(device: torch.device, data: Path,
                                                                   preset_name: str, tmp_path: Path) -> None:
    trainer = Trainer(config(data, preset_name), preset(preset_name), tmp_path / "run", device=device)
    assert trainer.bf16 == (device.type == "cuda")  # "auto": bf16 autocast on CUDA, fp32 on a CPU
    g0, d0 = snapshot(trainer.G), snapshot(trainer.D)
    for batch in trainer._loader(0, 0):
        losses = trainer.train_step(batch)
        assert all(math.isfinite(v) for v in losses.values()), losses
    changed = {k.split(".")[0] for k, v in trainer.G.state_dict().items() if not torch.equal(v, g0[k])}
    assert {"style_encoder", "generator", "mask_embedder"} <= changed and "mapping" not in changed
    assert any(not torch.equal(v, d0[k]) for k, v in trainer.D.state_dict().items())
    for p in [*trainer.G.parameters(), *trainer.D.parameters()]:  # autocast computes in bf16, weights stay fp32
        assert p.dtype == torch.float32 and p.device.type == device.type


def test_a_checkpoint_written_on_the_device_resumes_exactly_and_exports_a_loadable_generator(
    device: torch.device, data: Path, preset_name: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    cfg = config(data, preset_name, ema=True, ema_start=1, ema_every=1)
    first = Trainer(cfg, preset(preset_name), run, device=device)
    first.train()  # two steps, then the final checkpoint
    resumed = Trainer(config(data, preset_name, ema=True, ema_start=1, ema_every=1, max_steps=3), preset(preset_name),
                      run, device=device, resume=True)
    assert resumed.step == 2
    for a, b in ((first.G, resumed.G), (first.D, resumed.D), (first.ema.shadow, resumed.ema.shadow)):
        sa, sb = a.state_dict(), b.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    for name in ("opt_g", "opt_d"):
        sa, sb = getattr(first, name).state_dict(), getattr(resumed, name).state_dict()
        for i, entry in sa["state"].items():
            assert all(torch.equal(entry[k], sb["state"][i][k]) for k in entry), name
            assert all(v.device.type == device.type for v in sb["state"][i].values() if v.dim()), name
    exported, _, meta = load_model(run / GENERATOR)  # the EMA weights, on the CPU
    shadow = first.ema.shadow.state_dict()
    assert meta["step"] == "2"
    assert all(torch.equal(v, shadow[k].cpu()) for k, v in exported.state_dict().items())
    summary = resumed.train()  # and it trains on from there
    assert summary["step"] == 3


def test_mapping_stage_steps_train_only_the_mapping_network_on_the_device(device: torch.device, data: Path,
                                                                         preset_name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    frozen = tmp_path / "g.safetensors"
    save_model(frozen, CA2SIS(preset(preset_name)))
    cfg = config(data, preset_name, stage="mapping", from_run=str(frozen), mapping_init="data")
    trainer = Trainer(cfg, preset(preset_name), tmp_path / "run", device=device)
    before = snapshot(trainer.G)
    for batch in trainer._loader(0, 0):
        losses = trainer.train_step(batch)
        assert all(math.isfinite(v) for v in losses.values()), losses
    changed = {k.split(".")[0] for k, v in trainer.G.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"mapping"}


def test_evaluation_on_the_device_scores_what_the_cpu_scores(device: torch.device, preset_name: str,
                                                             tmp_path: Path) -> None:
    size = preset(preset_name).resolution
    test_data = write_synthetic_pairs(tmp_path / "data", count=4, size=size, seed=5, split="test").parent
    torch.manual_seed(0)
    weights = tmp_path / "g.safetensors"
    save_model(weights, CA2SIS(preset(preset_name)))
    reports = [evaluate(EvalConfig(weights=weights, data=test_data, batch_size=2, device=str(dev), fid="off",
                                   parser="bundled", random_styles=True)) for dev in ("cpu", device)]
    cpu, here = (r["reconstruction"]["l1"] for r in reports)
    assert abs(here - cpu) < 0.01, f"L1 {here:.4f} on {device}, {cpu:.4f} on the CPU"
    assert math.isfinite(reports[1]["random_styles"]["diversity_l1"])
    assert reports[1]["segmentation"]["miou"] is not None  # the bundled parser ran on the device


def test_the_inception_perceptual_loss_backpropagates_on_the_device(device: torch.device) -> None:
    from ca2sis.train.perceptual import PerceptualLoss, PerceptualWeightsMissing

    try:
        loss = PerceptualLoss("inception").to(device)
    except PerceptualWeightsMissing as exc:
        pytest.skip(str(exc))
    torch.manual_seed(0)
    fake = torch.randn(2, 3, 128, 128, device=device, requires_grad=True)
    real = torch.randn(2, 3, 128, 128, device=device)
    for _ in range(3):  # TorchScript's executor optimises a graph only after its first runs
        fake.grad = None
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            value = loss(fake, real)
        value.backward()
    assert math.isfinite(value.item()) and fake.grad is not None and fake.grad.abs().sum() > 0
