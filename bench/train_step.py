"""Training-step time and peak memory of (CA)²-SIS, split into the generator and discriminator steps.

    python bench/train_step.py --json bench-train.json                 # celebamask-256, batch 1 and 2, CPU
    python bench/train_step.py --preset tiny --batches 2 --steps 3     # quick check
    python bench/train_step.py --devices cuda --batches 2 4 8          # on a GPU (bf16 autocast)

Each (device, batch) case runs in a fresh child process so that its peak memory is its own (CPU: peak
resident set size of the process; CUDA: torch's peak allocated memory). The G step is the
reconstruction pass, D on fake+real, the losses (hinge, feature matching, perceptual if asked,
attention), backward and Adam; the D step is the no-grad fake pass, D on fake+real, backward and Adam.
The first step of each case is a warm-up and is not timed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_case(
    preset_name: str, batch: int, device_name: str, steps: int, perceptual: str, checkpointing: bool, threads: int
) -> dict:
    import torch

    from ca2sis.config import preset
    from ca2sis.model import CA2SIS
    from ca2sis.nn.discriminator import MultiscaleDiscriminator
    from ca2sis.tensors import one_hot
    from ca2sis.train.config import TrainConfig
    from ca2sis.train.perceptual import build_perceptual
    from ca2sis.train.steps import Nets, discriminator_losses, generator_losses, reconstruct

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = torch.device(device_name)
    cuda = device.type == "cuda"
    config = preset(preset_name)
    G = CA2SIS(config).to(device).train()
    G.set_gradient_checkpointing(checkpointing)
    G.mapping.requires_grad_(False)
    D = MultiscaleDiscriminator(config.num_classes).to(device).train()
    p_loss = build_perceptual(perceptual, download=False)
    if p_loss is not None:
        p_loss.to(device)
    cfg = TrainConfig(perceptual=perceptual)
    opt_g = torch.optim.Adam([p for p in G.parameters() if p.requires_grad], lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
    nets = Nets(G, D, G, D, p_loss)
    res = config.resolution
    # Blocky random masks: every class present somewhere, like a face parse.
    labels = torch.randint(0, config.num_classes, (batch, res // 16, res // 16))
    labels = labels.repeat_interleave(16, 1).repeat_interleave(16, 2).to(device)
    onehot = one_hot(labels, config.num_classes)
    image = torch.rand(batch, 3, res, res, device=device) * 2 - 1
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cuda else contextlib.nullcontext

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    base_mb = torch.cuda.memory_allocated() / 2**20 if cuda else _rss_mb()
    g_times, d_times = [], []
    for i in range(steps + 1):
        sync()
        t0 = time.perf_counter()
        D.requires_grad_(False)
        total, _ = generator_losses(nets, cfg, image, onehot, autocast())
        opt_g.zero_grad(set_to_none=True)
        total.backward()
        opt_g.step()
        sync()
        t1 = time.perf_counter()
        D.requires_grad_(True)
        with autocast():
            fake = reconstruct(G, image, onehot)
        total_d, _ = discriminator_losses(nets, fake, image, onehot, autocast())
        opt_d.zero_grad(set_to_none=True)
        total_d.backward()
        opt_d.step()
        sync()
        t2 = time.perf_counter()
        if i:  # step 0 is the warm-up
            g_times.append(t1 - t0)
            d_times.append(t2 - t1)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _rss_mb()
    g_ms = 1000 * sum(g_times) / len(g_times)
    d_ms = 1000 * sum(d_times) / len(d_times)
    return {
        "preset": preset_name,
        "device": device_name,
        "batch": batch,
        "precision": "bf16 autocast" if cuda else "fp32",
        "perceptual": perceptual,
        "gradient_checkpointing": checkpointing,
        "threads": threads,
        "timed_steps": steps,
        "g_step_ms": round(g_ms, 1),
        "d_step_ms": round(d_ms, 1),
        "step_ms": round(g_ms + d_ms, 1),
        "images_per_s": round(batch / ((g_ms + d_ms) / 1000), 3),
        "memory_after_setup_mb": round(base_mb, 1),
        "peak_memory_mb": round(peak, 1),
        "memory_kind": "torch peak allocated" if cuda else "process peak RSS",
        "g_params_m": round(sum(p.numel() for p in G.parameters()) / 1e6, 2),
        "d_params_m": round(sum(p.numel() for p in D.parameters()) / 1e6, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="celebamask-256")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, plus cuda when available")
    parser.add_argument("--steps", type=int, default=1, help="timed steps per case, after one warm-up (default 1)")
    parser.add_argument("--perceptual", default="off", choices=("off", "inception", "vgg19"))
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case as JSON "device,batch"
    args = parser.parse_args()

    if args.case:
        device, batch = args.case.split(",")
        result = run_case(
            args.preset, int(batch), device, args.steps, args.perceptual, args.gradient_checkpointing, args.threads
        )
        print("RESULT " + json.dumps(result))
        return 0

    import torch

    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    results = []
    for device in devices:
        for batch in args.batches:
            cmd = [
                sys.executable,
                __file__,
                "--case",
                f"{device},{batch}",
                "--preset",
                args.preset,
                "--steps",
                str(args.steps),
                "--perceptual",
                args.perceptual,
                "--threads",
                str(args.threads),
            ]
            if args.gradient_checkpointing:
                cmd.append("--gradient-checkpointing")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if proc.returncode or line is None:
                results.append({"device": device, "batch": batch, "error": proc.stderr.strip()[-800:]})
                print(f"{device} batch {batch}: failed\n{proc.stderr[-800:]}", file=sys.stderr)
                continue
            r = json.loads(line[len("RESULT ") :])
            results.append(r)
            print(
                f"{r['preset']} {device} batch {batch}: G {r['g_step_ms']:.0f} ms + D {r['d_step_ms']:.0f} ms "
                f"= {r['step_ms']:.0f} ms/step ({r['images_per_s']:.2f} img/s), peak {r['peak_memory_mb']:.0f} MB "
                f"({r['memory_kind']})"
            )
    report = {
        "benchmark": "train_step",
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "results": results,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
