"""The bundled RetinaFace detector on photos built from the sample portraits (offline, no shared data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis import weights
from ca2sis.data.scenes import procedural_texture
from ca2sis.photo.align import LANDMARK_NAMES, FaceBox, detect_faces
from ca2sis.photo.detection import BUNDLED_DETECTOR, resolve
from ca2sis.photo.detection.retinaface import DetectionConfig, RetinaFaceDetector, load_detector, load_network
from tests.sample_scenes import sample_scene, two_face_photo


def eye_error(found: FaceBox, truth: np.ndarray) -> float:
    """Mean eye-point distance as a share of the true inter-ocular distance."""
    return float(np.linalg.norm(found.landmarks[:2] - truth[:2], axis=1).mean() / np.linalg.norm(truth[1] - truth[0]))


def nearest(faces: list[FaceBox], truth: np.ndarray) -> FaceBox:
    return min(faces, key=lambda f: np.linalg.norm(f.landmarks[:2].mean(0) - truth[:2].mean(0)))


def test_the_bundled_detector_ships_with_checksum_licence_and_provenance():
    entry = weights.catalog().entries[BUNDLED_DETECTOR]
    assert entry.kind == "detector" and entry.location == "bundled"
    assert "MIT" in entry.license and "non-commercial" in entry.license and "WIDER FACE" in entry.license
    assert "Pytorch_Retinaface" in entry.source
    path = weights.verify(BUNDLED_DETECTOR, progress=False)
    assert path.stat().st_size < 2 * 2**20


def test_it_loads_strictly_into_facexlibs_own_network_without_unpickling(monkeypatch):
    loads = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(k) or real(*a, **k))
    net = load_network("mobilenet")
    assert type(net).__module__ == "facexlib.detection.retinaface" and net.cfg["name"] == "mobilenet0.25"
    assert loads and all(k.get("weights_only") is True for k in loads)
    assert net.mean_tensor.device.type == "cpu" and next(net.parameters()).device.type == "cpu"


def test_a_file_of_another_network_is_refused_with_its_name(tmp_path):
    path = tmp_path / "wrong.pth"
    torch.save({"body.conv.weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="wrong.pth: does not fit facexlib's RetinaFace mobilenet"):
        load_network("mobilenet", path=path)


def test_auto_is_the_bundled_network_offline():
    assert resolve("auto") == "mobilenet"
    assert resolve("retinaface") == "resnet50"  # the ResNet-50 network keeps its old name
    with pytest.raises(ValueError, match="unknown face detector 'haar'"):
        resolve("haar")


def test_without_the_bundled_file_auto_falls_back_to_the_parser_and_says_so(monkeypatch, caplog):
    import ca2sis.photo.detection as detection

    monkeypatch.setattr(detection, "bundled_status", lambda: "model 'x' is not installed")
    assert resolve("auto") == "parsing"
    assert "last resort" in caplog.text and "reinstall" in caplog.text


def test_two_rotated_faces_on_a_texture_are_both_found_largest_first_with_their_landmarks():
    scene = two_face_photo()
    faces = detect_faces(scene.photo)
    assert len(faces) == 2
    assert faces[0].crop_side >= faces[1].crop_side
    for truth in scene.faces:
        found = nearest(faces, truth.landmarks)
        assert eye_error(found, truth.landmarks) < 0.08
        assert found.score > 0.9 and found.detector == "retinaface-mobilenet"
        assert abs(found.crop_side - 512 * np.sqrt(abs(np.linalg.det(truth.matrix[:, :2])))) < 0.12 * found.crop_side


@pytest.mark.parametrize("seed", range(3))
def test_textures_alone_hold_no_face(seed: int):
    photo = procedural_texture(np.random.default_rng(100 + seed), (800, 600))
    assert detect_faces(photo) == []


def test_a_small_face_in_a_large_photo_is_found_by_the_closer_look():
    # Eyes 30 px apart in a 3000-px photo: too small for the main pass at 1280 px.
    scene = sample_scene([(0.24, 5.0, (2100.0, 700.0))], size=(3000, 2000), names=("astronaut",))
    detector = load_detector()
    assert detector.scales((3000, 2000))[2] is not None
    faces = detect_faces(scene.photo)
    assert len(faces) == 1 and eye_error(faces[0], scene.faces[0].landmarks) < 0.1


def test_a_close_up_larger_than_the_main_pass_sees_well_is_found():
    scene = sample_scene([(2.6, -8.0, (900.0, 800.0))], size=(1800, 1600), names=("astronaut",))
    faces = detect_faces(scene.photo)
    assert len(faces) == 1 and eye_error(faces[0], scene.faces[0].landmarks) < 0.08


def test_a_face_cut_by_the_photos_edge_is_found():
    # A quarter of the face is outside the photo's left edge.
    scene = sample_scene([(0.7, 10.0, (60.0, 400.0))], size=(900, 800), names=("astronaut",), cut=True)
    faces = detect_faces(scene.photo)
    assert len(faces) == 1 and eye_error(faces[0], scene.faces[0].landmarks) < 0.1
    assert faces[0].box[0] < 5.0  # the box reaches the photo's edge (clipped there, never negative)
    assert min(faces[0].box) >= 0.0


def test_scales_main_coarse_and_small_face_passes():
    d = RetinaFaceDetector(torch.nn.Identity(), "test", DetectionConfig(work_side=1000, max_face=400, max_side=2000))
    assert d.scales((500, 300)) == (1.0, None, 2.0)  # small photo: no face can be too large
    main, coarse, fine = d.scales((4000, 3000))
    assert main == 0.25 and coarse == pytest.approx(0.25 / 3) and fine == 0.5
    main, coarse, fine = d.scales((1600, 1600))
    assert main == 0.625 and coarse == pytest.approx(0.625 / 3) and fine == 1.25
    tight = RetinaFaceDetector(torch.nn.Identity(), "test", DetectionConfig(work_side=1000, max_side=1100))
    assert tight.scales((2000, 2000))[2] is None  # no closer look when max_side allows almost nothing more


def test_a_candidate_that_is_not_a_face_is_not_confirmed():
    photo = procedural_texture(np.random.default_rng(7), (600, 600))
    fake = FaceBox((200, 200, 330, 360), [[230, 250], [300, 250], [265, 290], [240, 330], [290, 330]], 0.7)
    assert load_detector().confirm(photo, [fake]) == [None]


def test_face_records_name_the_landmarks_as_seen_in_the_image():
    face = FaceBox((0, 0, 100, 120), [[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], 0.987654)
    record = face.to_dict()
    assert list(record["landmarks"]) == list(LANDMARK_NAMES)
    assert record["landmarks"]["left_eye"] == [30.0, 40.0] and record["score"] == 0.9877
    assert record["crop_side"] == pytest.approx(512 / 125.3 * 40, rel=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_it_runs_on_cuda_too():
    scene = two_face_photo()
    cpu = detect_faces(scene.photo, device="cpu")
    gpu = detect_faces(scene.photo, device="cuda")
    assert len(gpu) == len(cpu) == 2
    assert np.abs(gpu[0].landmarks - cpu[0].landmarks).max() < 2

