"""Training the bundled parser: data split, augmentation, a short run, resume, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ca2sis.parsing.augment import AugmentConfig, augment
from ca2sis.parsing.dataset import list_pairs, split_names
from ca2sis.parsing.network import FaceParserNet, load_parser_net
from ca2sis.parsing.training import TrainConfig, train

from .helpers import TINY


def make_pairs(root: Path, n: int = 10, size: int = 48) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        mask = np.zeros((size, size), np.uint8)
        mask[8:40, 8:40] = 1
        mask[16:20, 28:34] = 4  # l_eye on the image's right
        mask[16:20, 14:20] = 5
        rgb = (rng.integers(0, 60, (size, size, 3)) + mask[..., None] * 40).astype(np.uint8)
        Image.fromarray(rgb).save(root / "images" / f"face{i:02d}.jpg")
        Image.fromarray(mask, "L").save(root / "masks" / f"face{i:02d}.png")
    (root / "images" / "no_mask.jpg").write_bytes((root / "images" / "face00.jpg").read_bytes())
    return root


def test_pairs_need_both_files(tmp_path):
    root = make_pairs(tmp_path / "d", n=3)
    assert [n for n, _, _ in list_pairs(root)] == ["face00", "face01", "face02"]
    with pytest.raises(FileNotFoundError, match="images/ and masks/"):
        list_pairs(tmp_path)


def test_validation_split_is_fixed_by_name():
    names = [f"n{i}" for i in range(50)]
    train_a, val_a = split_names(names, 10)
    train_b, val_b = split_names(list(reversed(names)), 10)
    assert sorted(val_a) == sorted(val_b) and len(val_a) == 10 and not set(val_a) & set(train_a)
    # Adding pairs never moves an existing name across the split... unless it is displaced by rank.
    _, val_more = split_names(names + [f"m{i}" for i in range(5)], 10)
    assert len(set(val_more) & set(val_a)) >= 5


def test_flip_swaps_left_and_right_classes():
    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 40:50] = 4  # l_eye on the image's right
    rgb = np.zeros((64, 64, 3), np.uint8)
    cfg = AugmentConfig(out_size=64, scale=(1, 1), rotate_deg=0, shift=0, flip=1.0, label_stride=1)
    _, lab = augment(rgb, mask, cfg, np.random.default_rng(0))
    assert (lab == 5).sum() > 0 and (lab == 4).sum() == 0
    assert np.nonzero(lab == 5)[1].mean() < 32  # the mirrored eye is the subject's right: image left


def test_augmented_labels_match_the_coarser_output_grid():
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 1
    cfg = AugmentConfig(out_size=64, scale=(1, 1), rotate_deg=0, shift=0, flip=0, label_stride=2)
    img, lab = augment(np.zeros((64, 64, 3), np.uint8), mask, cfg, np.random.default_rng(0))
    assert img.shape == (64, 64, 3) and img.dtype == np.float32 and lab.shape == (32, 32)
    assert (lab[:, :16] == 0).all() and (lab[:, 16:] == 1).all()


def test_short_run_writes_checkpoint_and_weights_and_resumes(tmp_path):
    data = make_pairs(tmp_path / "data")
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), epochs=1, batch_size=4, num_val=3,
                      eval_every=1, cache_size=48, bf16=False, net=TINY,
                      export=str(tmp_path / "models" / "parser.safetensors"))
    best = train(cfg)
    run = tmp_path / "run"
    assert (run / "last.pt").is_file() and (run / "best.safetensors").is_file()
    assert 0.0 <= best["miou"] <= 1.0 and set(best["iou"]) >= {"skin", "l_eye"}
    net, meta = load_parser_net(tmp_path / "models" / "parser.safetensors")
    assert isinstance(net, FaceParserNet) and net.config == TINY and meta["num_val"] == "3"
    split = json.loads((run / "split.json").read_text())
    assert len(split["val"]) == 3 and len(split["train"]) == 7

    cfg.epochs = 2  # resume: only the second epoch runs
    train(cfg)
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    import ca2sis.parsing.training as training

    data = make_pairs(tmp_path / "data", n=8)

    def config(out: str) -> TrainConfig:
        return TrainConfig(data=str(data), out=str(tmp_path / out), epochs=2, batch_size=2, num_val=2, eval_every=1,
                           cache_size=48, bf16=False, net=TINY, background_share=0.5, occluder_share=0.5)

    train(config("whole"))
    save = training._save_checkpoint

    def save_then_stop(path, state):
        save(path, state)
        raise KeyboardInterrupt  # killed right after the first epoch's checkpoint

    monkeypatch.setattr(training, "_save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(config("cut"))
    monkeypatch.setattr(training, "_save_checkpoint", save)
    train(config("cut"))
    whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["net"]
    cut = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["net"]
    assert all(torch.equal(whole[k], cut[k]) for k in whole)  # the same views, the same steps


def test_time_budget_ends_training(tmp_path):
    data = make_pairs(tmp_path / "data", n=6)
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), epochs=50, batch_size=2, num_val=2,
                      eval_every=10, cache_size=48, bf16=False, net=TINY, time_budget_min=1e-4)
    train(cfg)
    history = (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    assert len(history) == 1 and "miou" in history[0]  # stopped after one epoch, and evaluated


def test_cli_trains_through_main(tmp_path):
    import main

    data = make_pairs(tmp_path / "data", n=6)
    rc = main.main(["train", "parser", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "1",
                    "--batch-size", "2", "--num-val", "2", "--input-size", "32", "--no-bf16", "--encoder", "mobile"])
    assert rc == 0 and (tmp_path / "run" / "best.safetensors").is_file()


def test_cli_can_train_on_one_left_right_naming(tmp_path, caplog):
    import json as _json
    import logging

    import main

    caplog.set_level(logging.INFO, logger="ca2sis.parsing.training")
    data = make_pairs(tmp_path / "data", n=6)
    rc = main.main(["train", "parser", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "1",
                    "--batch-size", "2", "--num-val", "2", "--input-size", "32", "--no-bf16", "--encoder", "mobile",
                    "--standard-sides"])
    assert rc == 0 and _json.loads((tmp_path / "run" / "config.json").read_text())["standard_sides"] is True
    assert "left/right renamed in" in caplog.text  # the training masks were looked at


def test_full_resolution_output_trains_and_round_trips(tmp_path):
    from dataclasses import replace

    full = replace(TINY, output_stride=1)
    net = FaceParserNet(full).eval()
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 64, 64)).shape == (1, 19, 64, 64)  # one logit per input pixel
        assert FaceParserNet(TINY).eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 19, 32, 32)
    data = make_pairs(tmp_path / "data", n=6)
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), epochs=1, batch_size=2, num_val=2,
                      eval_every=1, cache_size=48, bf16=False, net=full)
    train(cfg)  # the labels come out on the net's own output grid, or the loss would not line up
    loaded, _ = load_parser_net(tmp_path / "run" / "best.safetensors")
    assert loaded.config == full


def test_parser_files_written_before_output_stride_still_load():
    import json as _json

    from ca2sis.parsing.network import ParserNetConfig

    old = {k: v for k, v in _json.loads(TINY.to_json()).items() if k != "output_stride"}
    assert ParserNetConfig.from_json(_json.dumps(old)).output_stride == 2


def test_cli_sets_the_architecture(tmp_path):
    import main

    data = make_pairs(tmp_path / "data", n=6)
    rc = main.main(["train", "parser", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "1",
                    "--batch-size", "2", "--num-val", "2", "--input-size", "32", "--no-bf16",
                    "--widths", "8,8,8,16,16", "--depths", "1,1,1,1", "--decoder-width", "8", "--output-stride", "1",
                    "--encoder", "mobile"])
    net, _ = load_parser_net(tmp_path / "run" / "best.safetensors")
    assert rc == 0 and net.config.widths == (8, 8, 8, 16, 16) and net.config.output_stride == 1
    with pytest.raises(SystemExit, match="widths"):
        main.main(["train", "parser", "--data", str(data), "--widths", "8,8", "--encoder", "mobile"])


def test_aligned_share_keeps_views_near_the_celeba_framing():
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 1
    wide = dict(out_size=64, scale=(0.3, 0.3), rotate_deg=0, shift=0, flip=0, label_stride=1)
    rng = np.random.default_rng(0)
    near = AugmentConfig(**wide, aligned_share=1.0, aligned_scale=(1, 1), aligned_rotate_deg=0)
    far = AugmentConfig(**wide, aligned_share=0.0)
    _, lab_near = augment(np.zeros((64, 64, 3), np.uint8), mask, near, rng)
    _, lab_far = augment(np.zeros((64, 64, 3), np.uint8), mask, far, rng)
    assert (lab_near == mask).all()  # unchanged framing
    assert (lab_far == 1).sum() < 0.2 * (mask == 1).sum()  # zoomed out to 0.3×


def test_a_run_can_start_from_an_earlier_runs_weights(tmp_path):
    from dataclasses import replace

    import ca2sis.parsing.training as training

    data = make_pairs(tmp_path / "data", n=6)
    first = TrainConfig(data=str(data), out=str(tmp_path / "a"), epochs=1, batch_size=2, num_val=2, eval_every=1,
                        cache_size=48, bf16=False, net=TINY)
    train(first)
    earlier, _ = load_parser_net(tmp_path / "a" / "best.safetensors")
    net, _ = training.build_net(replace(first, init=str(tmp_path / "a" / "best.safetensors")))
    assert all(torch.equal(v, earlier.state_dict()[k]) for k, v in net.state_dict().items())
    with pytest.raises(ValueError, match="architecture"):
        training.build_net(replace(first, init=str(tmp_path / "a" / "best.safetensors"),
                                   net=replace(TINY, decoder_width=16)))


def test_cli_trains_the_bundled_parsers_encoder_unless_told_otherwise():
    import argparse

    from ca2sis.cli.train_parser import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args(["--data", "d"]).encoder == "inception"  # what the bundled parser v2 uses
    assert p.parse_args(["--data", "d", "--encoder", "mobile"]).encoder == "mobile"
