"""Generated photos for the detection and paste-back checks: their truth is where the faces really are."""

from __future__ import annotations

import numpy as np

from ca2sis.data.scenes import (
    FACE_CENTRE,
    FACE_RADIUS,
    jpeg,
    make_scene,
    photo_background,
    placement,
    procedural_texture,
    scatter,
    without_person,
)
from ca2sis.photo.align import TEMPLATE_512


def face_pair() -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((512, 512), np.uint8)
    mask[150:450, 130:380] = 1
    image = np.zeros((512, 512, 3), np.uint8)
    image[mask == 1] = (250, 10, 10)
    return image, mask


def test_placement_puts_the_face_centre_where_asked_at_the_given_scale_and_angle():
    m = placement(0.5, 30.0, (400.0, 300.0))
    assert np.allclose(FACE_CENTRE @ m[:, :2].T + m[:, 2], (400, 300))
    assert np.isclose(np.sqrt(np.linalg.det(m[:, :2])), 0.5)
    assert np.isclose(np.degrees(np.arctan2(m[0, 1], m[0, 0])), 30.0)  # OpenCV: counter-clockwise as seen


def test_a_scene_knows_its_faces_landmarks_and_shows_the_person_only():
    image, mask = face_pair()
    bg = np.full((600, 800, 3), 40, np.uint8)
    m = placement(0.6, -15.0, (500.0, 300.0))
    scene = make_scene(bg, [("a", image, mask, None)], [(m, False)])
    assert np.allclose(scene.faces[0].landmarks, TEMPLATE_512 @ m[:, :2].T + m[:, 2])
    assert np.isclose(scene.faces[0].inter_ocular, np.linalg.norm(TEMPLATE_512[1] - TEMPLATE_512[0]) * 0.6)
    x, y = scene.faces[0].centre.astype(int)
    assert tuple(scene.photo[y, x]) == (250, 10, 10) and tuple(scene.photo[5, 5]) == (40, 40, 40)


def test_scattered_faces_do_not_overlap_and_cut_ones_reach_past_the_edge():
    rng = np.random.default_rng(0)
    spots = scatter(rng, (1200, 900), 4, cut_chance=0.5)
    assert 1 <= len(spots) <= 4 and any(cut for _, cut in spots)
    centres = [FACE_CENTRE @ m[:, :2].T + m[:, 2] for m, _ in spots]
    radii = [FACE_RADIUS * np.sqrt(np.linalg.det(m[:, :2])) for m, _ in spots]
    for i in range(len(spots)):
        for j in range(i):
            assert np.linalg.norm(centres[i] - centres[j]) > radii[i] + radii[j]
        c, r = centres[i], radii[i]
        outside = min(c[0], c[1], 1200 - c[0], 900 - c[1]) < r
        assert outside == spots[i][1]


def test_backgrounds_hold_no_trace_of_the_person_they_came_from():
    image, mask = face_pair()
    image[mask == 0] = (20, 120, 220)
    empty = without_person(image, mask)
    assert np.abs(empty[300, 256].astype(int) - (20, 120, 220)).max() < 30
    rng = np.random.default_rng(1)
    bg = photo_background(rng, (700, 500), [empty])
    assert bg.shape == (500, 700, 3) and np.abs(bg.astype(int) - (20, 120, 220)).mean() < 15
    texture = procedural_texture(rng, (640, 480))
    assert texture.shape == (480, 640, 3) and texture.dtype == np.uint8 and texture.std() > 5
    assert jpeg(rng, texture).shape == texture.shape
