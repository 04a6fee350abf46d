"""The discriminator's layout and the loss functions of the recipe."""

from __future__ import annotations

import torch

from ca2sis.nn.discriminator import MultiscaleDiscriminator
from ca2sis.train.config import TrainConfig
from ca2sis.train.losses import d_hinge_loss, diversity_loss, feature_matching_loss, g_hinge_loss, split_real_fake


def test_discriminator_matches_the_recipe_for_19_classes_at_256() -> None:
    d = MultiscaleDiscriminator(19)
    assert d.scales[0].layers[0][0].in_channels == 22
    assert sum(p.numel() for p in d.parameters()) == 1_364_098
    with torch.no_grad():
        out = d(torch.zeros(1, 19, 256, 256), torch.zeros(1, 3, 256, 256))
    shapes = [[tuple(t.shape[1:]) for t in scale] for scale in out]
    assert shapes == [
        [(64, 129, 129), (128, 65, 65), (256, 33, 33), (1, 34, 34)],
        [(64, 65, 65), (128, 33, 33), (256, 17, 17), (1, 18, 18)],
    ]


def test_middle_convs_are_spectral_normed_without_bias_and_plain_convs_get_small_xavier_init() -> None:
    torch.manual_seed(0)
    d = MultiscaleDiscriminator(19)
    first, middle = d.scales[0].layers[0][0], d.scales[0].layers[1][0]
    assert hasattr(middle, "weight_orig") and middle.bias is None
    assert isinstance(d.scales[0].layers[1][1], torch.nn.InstanceNorm2d)
    # xavier-normal with gain 0.02: std = 0.02·sqrt(2 / (fan_in + fan_out))
    fan = 22 * 16 + 64 * 16
    assert abs(first.weight.std().item() - 0.02 * (2 / fan) ** 0.5) < 2e-4
    assert float(first.bias.detach().abs().max()) == 0.0


def test_discriminator_refuses_a_mask_with_the_wrong_class_count() -> None:
    d = MultiscaleDiscriminator(19, ndf=8)
    try:
        d(torch.zeros(1, 5, 32, 32), torch.zeros(1, 3, 32, 32))
    except ValueError as exc:
        assert "19 mask channels" in str(exc)
    else:
        raise AssertionError("expected a ValueError")


def test_hinge_losses_are_zero_for_confident_correct_logits() -> None:
    real = [[torch.full((2, 1, 4, 4), 2.0)]]
    fake = [[torch.full((2, 1, 4, 4), -2.0)]]
    lr, lf = d_hinge_loss(real, fake)
    assert lr.item() == 0.0 and lf.item() == 0.0
    assert g_hinge_loss(fake).item() == 2.0


def test_feature_matching_sums_layers_and_averages_scales() -> None:
    ones, zeros = torch.ones(1, 2, 3, 3), torch.zeros(1, 2, 3, 3)
    fake = [[ones, ones, zeros], [ones, ones, zeros]]
    real = [[zeros, zeros, zeros], [zeros, zeros, zeros]]
    assert feature_matching_loss(fake, real).item() == 2.0  # 2 layers × L1 1, two scales averaged


def test_split_real_fake_keeps_fakes_first() -> None:
    out = [[torch.arange(4.0).view(4, 1)]]
    fake, real = split_real_fake(out, 1)
    assert fake[0][0].flatten().tolist() == [0.0] and real[0][0].flatten().tolist() == [1.0, 2.0, 3.0]


def test_diversity_loss_rewards_different_images() -> None:
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    assert diversity_loss(a, b).item() == -1.0 and diversity_loss(a, a).item() == 0.0


def test_learning_rate_is_constant_then_decays_linearly_to_zero() -> None:
    cfg = TrainConfig(epochs=50, epochs_decay=50)
    assert cfg.lr_factor(0) == 1.0 and cfg.lr_factor(49.9) == 1.0
    assert abs(cfg.lr_factor(75) - 0.5) < 1e-9 and cfg.lr_factor(100) == 0.0
