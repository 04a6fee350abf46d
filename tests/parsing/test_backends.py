"""Every parser back end through its real loading code, with networks the tests make."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.parsing import Parser, available_backends, load_parser
from ca2sis.parsing.facexlib_models import (
    BISENET_TO_CELEBAMASK,
    WEIGHTS,
    WeightsMissingError,
    load_network,
    weight_path,
)
from ca2sis.parsing.network import MEAN, STD

from .helpers import random_face, save_random_facexlib, save_tiny_bundled

# face-parsing.PyTorch's class order, which facexlib's BiSeNet was trained with.
BISENET_NAMES = ["background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear",
                 "ear_r", "nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat"]


@pytest.fixture(scope="session")
def facexlib_models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    save_random_facexlib(root)
    save_tiny_bundled(root)
    return root


@pytest.fixture
def models(facexlib_models: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CA2SIS_MODELS", str(facexlib_models))
    monkeypatch.setenv("CA2SIS_OFFLINE", "1")
    from ca2sis.parsing import _CACHE
    from ca2sis.photo.detection.retinaface import forget_detectors

    _CACHE.clear()
    forget_detectors()
    yield facexlib_models
    forget_detectors()


@pytest.fixture
def bundled_only(tmp_path, monkeypatch) -> Path:
    """Just the (tiny) bundled parser: no facexlib networks to build."""
    save_tiny_bundled(tmp_path / "models")
    monkeypatch.setenv("CA2SIS_MODELS", str(tmp_path / "models"))
    from ca2sis.parsing import _CACHE

    _CACHE.clear()
    return tmp_path / "models"


class Recorder(torch.nn.Module):
    """Stands in for a network: remembers its input, answers with fixed logits."""

    def __init__(self, logits: torch.Tensor, extra: int) -> None:
        super().__init__()
        self.logits, self.extra, self.seen = logits, extra, None

    def forward(self, x):
        self.seen = x
        return (self.logits, *[None] * self.extra)


def test_bisenet_remap_goes_from_its_order_to_ours():
    assert sorted(BISENET_TO_CELEBAMASK) == list(range(19))
    for bisenet_index, ours in enumerate(BISENET_TO_CELEBAMASK):
        assert CELEBAMASK_HQ.names[ours] == BISENET_NAMES[bisenet_index]


@pytest.mark.parametrize(
    "name", ["bundled", pytest.param("parsenet", marks=pytest.mark.slow), "bisenet"]  # ParseNet: ~10 s on CPU
)
def test_each_backend_parses_with_random_weights(models, name):
    parser = load_parser(name)
    assert isinstance(parser, Parser) and parser.name == name
    face = random_face(80)
    mask = parser.parse(face)
    assert mask.shape == (80, 80) and mask.dtype == np.uint8 and mask.max() < 19


def test_auto_is_the_bundled_parser_and_loads_once(bundled_only):
    assert load_parser("auto").name == "bundled"
    assert load_parser("auto") is load_parser("bundled")


def test_available_backends_reports_ready(models):
    assert available_backends() == {"bundled": "ready", "parsenet": "ready", "bisenet": "ready"}


def test_bisenet_output_is_remapped_and_resized_back(models):
    parser = load_parser("bisenet")
    logits = torch.zeros(1, 19, 512, 512)
    logits[:, 10, :, :256] = 1  # BiSeNet's "nose" on the left half
    logits[:, 17, :, 256:] = 1  # its "hair" on the right half
    parser.net = Recorder(logits, 2)
    parser.clean = False
    mask = parser.parse(random_face(100))
    assert mask.shape == (100, 100)
    assert (mask[:, :45] == 2).all() and (mask[:, 55:] == 13).all()  # ours: nose 2, hair 13


def test_each_facexlib_model_gets_its_own_normalisation(models):
    white = np.full((64, 64, 3), 255, np.uint8)
    parsenet = load_parser("parsenet")
    parsenet.net = Recorder(torch.zeros(1, 19, 512, 512), 1)
    parsenet.parse(white)
    assert parsenet.net.seen.shape == (1, 3, 512, 512)
    assert torch.allclose(parsenet.net.seen, torch.ones(1)), "ParseNet takes RGB in [-1, 1]"
    bisenet = load_parser("bisenet")
    bisenet.net = Recorder(torch.zeros(1, 19, 512, 512), 2)
    bisenet.parse(white)
    expected = (1 - torch.tensor(MEAN)) / torch.tensor(STD)
    assert torch.allclose(bisenet.net.seen[0, :, 0, 0], expected, atol=1e-5), "BiSeNet: ImageNet mean/std"


def test_retinaface_resnet50_loads_the_released_file_name_and_becomes_the_default(models):
    from ca2sis.photo.align import FaceBox, detect_faces
    from ca2sis.photo.detection import resolve
    from ca2sis.photo.detection.retinaface import DetectionConfig, load_detector

    assert resolve("auto") == "resnet50"  # installed by the user: the more accurate network
    detector = load_detector("resnet50")
    assert detector.net.cfg["name"] == "Resnet50"
    # Random weights see faces everywhere: confirm only a few candidates, to keep the test short.
    detector.config = DetectionConfig(max_faces=2)
    photo = random_face(160)
    rows = detector.candidates(photo, 1.0, None)  # random weights: some candidates, most likely
    assert rows.shape[1] == 15 and np.isfinite(rows).all()
    faces = detect_faces(photo, "auto")  # the whole path runs with it
    assert all(isinstance(f, FaceBox) and f.landmarks.shape == (5, 2) for f in faces)


def test_missing_weights_offline_say_what_to_fetch_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("CA2SIS_MODELS", str(tmp_path))
    monkeypatch.setenv("CA2SIS_OFFLINE", "1")
    from ca2sis.parsing import _CACHE

    _CACHE.clear()
    with pytest.raises(WeightsMissingError) as info:
        load_parser("bisenet")
    msg = str(info.value)
    assert WEIGHTS["bisenet"].url in msg and str(tmp_path / "facexlib") in msg
    status = available_backends()
    assert "parsing_parsenet.pth" in status["parsenet"] and WEIGHTS["parsenet"].url in status["parsenet"]


def test_download_goes_to_the_user_models_folder_with_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("CA2SIS_MODELS", str(tmp_path))
    monkeypatch.delenv("CA2SIS_OFFLINE", raising=False)
    calls = []

    def fake_download(url, dst, progress=True):
        calls.append((url, progress))
        Path(dst).write_bytes(b"weights")

    monkeypatch.setattr("torch.hub.download_url_to_file", fake_download)
    path = weight_path("parsenet")
    assert path == tmp_path / "facexlib" / "parsing_parsenet.pth" and path.read_bytes() == b"weights"
    assert calls == [(WEIGHTS["parsenet"].url, True)]
    assert not list((tmp_path / "facexlib").glob("*.part"))


def test_failed_download_explains_the_manual_route(tmp_path, monkeypatch):
    monkeypatch.setenv("CA2SIS_MODELS", str(tmp_path))
    monkeypatch.delenv("CA2SIS_OFFLINE", raising=False)

    def no_network(url, dst, progress=True):
        Path(dst).write_bytes(b"half")
        raise OSError("Network is unreachable")

    monkeypatch.setattr("torch.hub.download_url_to_file", no_network)
    with pytest.raises(WeightsMissingError, match="Network is unreachable.*Download https://"):
        weight_path("retinaface")
    assert not list((tmp_path / "facexlib").iterdir())  # no half file left behind


def test_a_wrong_file_under_a_real_name_is_refused_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("CA2SIS_MODELS", str(tmp_path))
    (tmp_path / "facexlib").mkdir()
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "facexlib" / "parsing_bisenet.pth")
    with pytest.raises(ValueError, match="does not fit facexlib's bisenet"):
        load_network("bisenet", download=False)


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="unknown parser 'segformer'"):
        load_parser("segformer")


def test_parsers_refuse_non_images(bundled_only):
    with pytest.raises(ValueError, match="H×W×3 uint8"):
        load_parser("bundled").parse(np.zeros((64, 64), np.uint8))


def test_flip_averaging_makes_the_bundled_parser_mirror_consistent(bundled_only):
    from ca2sis.classes import CELEBAMASK_HQ
    from ca2sis.parsing.backends import BundledParser

    parser = BundledParser(flip_tta=True, clean=False)
    face = random_face(64, seed=5)
    mask = parser.parse(face)
    mirrored = parser.parse(np.ascontiguousarray(face[:, ::-1]))
    expected = CELEBAMASK_HQ.flip_lut()[mask[:, ::-1]]
    assert (mirrored == expected).mean() > 0.99  # equal up to float ties


def test_a_parser_file_says_whether_mirror_averaging_is_worth_its_time(tmp_path):
    from ca2sis.parsing.backends import BundledParser
    from ca2sis.parsing.network import FaceParserNet, save_parser_net

    from .helpers import TINY

    save_parser_net(tmp_path / "fast.safetensors", FaceParserNet(TINY))
    save_parser_net(tmp_path / "slow.safetensors", FaceParserNet(TINY), {"flip_tta": "false"})
    assert BundledParser(tmp_path / "fast.safetensors").flip_tta  # files without the key: yes, as before
    assert not BundledParser(tmp_path / "slow.safetensors").flip_tta
    assert BundledParser(tmp_path / "slow.safetensors", flip_tta=True).flip_tta  # the caller decides last
