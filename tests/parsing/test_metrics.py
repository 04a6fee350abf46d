from __future__ import annotations

import numpy as np
import pytest

from ca2sis.metrics.segmentation import ConfusionMatrix, score_table


def test_iou_and_pixel_accuracy_on_a_known_case():
    truth = np.array([[0, 0, 1, 1]])
    pred = np.array([[0, 1, 1, 1]])
    cm = ConfusionMatrix(3)
    cm.add(truth, pred)
    iou = cm.iou()
    assert iou[0] == pytest.approx(0.5) and iou[1] == pytest.approx(2 / 3) and np.isnan(iou[2])
    assert cm.miou() == pytest.approx((0.5 + 2 / 3) / 2)  # the absent class is not counted
    assert cm.pixel_accuracy() == pytest.approx(0.75)
    assert "mIoU" in score_table(cm, ["a", "b", "c"]) and "n/a" in score_table(cm, ["a", "b", "c"])


def test_shapes_must_match():
    with pytest.raises(ValueError, match="differ in size"):
        ConfusionMatrix(2).add(np.zeros((2, 2)), np.zeros((3, 3)))
