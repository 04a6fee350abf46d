"""Shapes and basic behaviour of every network module, on the tiny preset."""

from __future__ import annotations

import pytest
import torch

from ca2sis.config import ModelConfig, StageConfig, preset
from ca2sis.model import CA2SIS
from ca2sis.nn.attention import SpatialTransformer
from ca2sis.nn.mapping import MappingNetwork
from ca2sis.nn.mask_embedder import MaskEmbedder
from ca2sis.nn.style_encoder import StyleEncoder, masked_average
from ca2sis.tensors import one_hot


def random_onehot(config: ModelConfig, batch: int = 2) -> torch.Tensor:
    labels = torch.randint(0, config.num_classes, (batch, config.resolution, config.resolution))
    return one_hot(labels, config.num_classes)


def test_mask_embedder_maps_every_class_with_one_shared_linear_layer() -> None:
    emb = MaskEmbedder(mask_size=8, token_dim=16)
    masks = torch.zeros(1, 3, 32, 32)
    masks[0, 0, :16] = 1
    masks[0, 2, :16] = 1  # same layout in two channels → same token
    out = emb(masks)
    assert out.shape == (1, 3, 16)
    torch.testing.assert_close(out[0, 0], out[0, 2])
    torch.testing.assert_close(out[0, 1], emb.proj.bias)  # an empty channel gives the bias


def test_style_encoder_gives_one_token_per_class_of_scales_times_style_dim(tiny_config) -> None:
    enc = StyleEncoder(tiny_config)
    onehot = random_onehot(tiny_config)
    out = enc(torch.randn(2, 3, 32, 32), onehot)
    assert out.shape == (2, tiny_config.num_classes, tiny_config.context_dim)
    assert out.abs().max() <= 1  # tanh


def test_absent_class_style_is_tanh_of_the_output_bias_not_zero(tiny_config) -> None:
    enc = StyleEncoder(tiny_config)
    onehot = random_onehot(tiny_config, batch=1)
    onehot[:, 1] = 0
    onehot[:, 0] = onehot[:, 0] + (onehot.sum(1) == 0)  # pixels of class 1 become background
    out = enc(torch.randn(1, 3, 32, 32), onehot)
    expected = torch.cat([torch.tanh(h.bias.view(tiny_config.num_classes, -1)[1]) for h in enc.heads])
    torch.testing.assert_close(out[0, 1], expected)


def test_masked_average_averages_each_class_group_over_its_region() -> None:
    feats = torch.arange(2 * 2 * 4 * 4, dtype=torch.float32).view(1, 4, 4, 4)  # 2 classes × 2 channels
    masks = torch.zeros(1, 2, 4, 4)
    masks[0, 0, 0, 0] = 1
    masks[0, 1, 3, 3] = 1
    out = masked_average(feats, masks, per_class=2)
    torch.testing.assert_close(out[0], torch.tensor([0.0, 16.0, 47.0, 63.0]), atol=1e-3, rtol=1e-4)


def test_mapping_network_gives_one_style_per_class(tiny_config) -> None:
    net = MappingNetwork(16, 32, 4, 19, tiny_config.context_dim)
    assert net(torch.randn(3, 16)).shape == (3, 19, tiny_config.context_dim)


def test_spatial_transformer_is_the_identity_at_initialisation() -> None:
    layer = SpatialTransformer(8, heads=2, head_dim=4, context_dim=12, self_attention=True, norm_groups=4)
    x = torch.randn(2, 8, 6, 6)
    out, cap = layer(x, torch.randn(2, 5, 12))
    torch.testing.assert_close(out, x)
    assert cap is None


def test_capturing_attention_changes_nothing_in_the_output(tiny_model, tiny_config) -> None:
    onehot = random_onehot(tiny_config)
    shapes = tiny_model.embed_mask(onehot)
    styles = tiny_model.encode_style(torch.randn(2, 3, 32, 32), onehot)
    with torch.no_grad():
        plain = tiny_model.generate(shapes, styles)
        captured = tiny_model.generate(shapes, styles, return_attention=True)
    torch.testing.assert_close(plain.image, captured.image, atol=1e-5, rtol=1e-5)
    assert plain.attention == []
    sizes = [c.logits.shape for c in captured.attention]
    assert sizes == [(2, 19, 4, 4), (2, 19, 8, 8), (2, 19, 16, 16), (2, 19, 32, 32)]
    probs = captured.attention[-1].probabilities
    torch.testing.assert_close(probs.sum(1), torch.ones(2, 32, 32))


def test_generator_output_is_an_image_in_tanh_range(tiny_model, tiny_config) -> None:
    onehot = random_onehot(tiny_config)
    out = tiny_model(torch.randn(2, 3, 32, 32), onehot)
    assert out.image.shape == (2, 3, 32, 32)
    assert out.image.abs().max() <= 1
    assert out.attention_loss.ndim == 0 and torch.isfinite(out.attention_loss)


def test_fresh_model_attention_loss_is_log_two_because_all_logits_are_equal_at_zero_init(tiny_config) -> None:
    model = CA2SIS(tiny_config)
    with torch.no_grad():
        for stage in model.generator.stages:
            stage.attn.block.cross_attn.to_q.weight.zero_()
    onehot = random_onehot(tiny_config)
    out = model(torch.randn(2, 3, 32, 32), onehot)
    assert out.attention_loss.item() == pytest.approx(0.6931, abs=1e-3)


def test_gradient_checkpointing_gives_the_same_gradients(tiny_model, tiny_config) -> None:
    onehot = random_onehot(tiny_config)
    image = torch.randn(2, 3, 32, 32)
    tiny_model.train()
    grads = []
    for enabled in (False, True):
        tiny_model.zero_grad()
        tiny_model.set_gradient_checkpointing(enabled)
        out = tiny_model(image, onehot)
        (out.image.square().mean() + out.attention_loss).backward()
        grads.append(tiny_model.generator.to_rgb.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_inference_token_chunking_gives_the_same_image(tiny_model, tiny_config) -> None:
    onehot = random_onehot(tiny_config)
    shapes, styles = tiny_model.embed_mask(onehot), tiny_model.encode_style(torch.randn(2, 3, 32, 32), onehot)
    with torch.no_grad():
        images = []
        for chunk in (0, 100):
            tiny_model.set_token_chunk(chunk)
            images.append(tiny_model.generate(shapes, styles).image)
    torch.testing.assert_close(images[0], images[1], atol=1e-6, rtol=1e-5)


def test_materialised_attention_reference_path_matches_the_fused_path(tiny_model, tiny_config) -> None:
    onehot = random_onehot(tiny_config)
    shapes, styles = tiny_model.embed_mask(onehot), tiny_model.encode_style(torch.randn(2, 3, 32, 32), onehot)
    with torch.no_grad():
        fused = tiny_model.generate(shapes, styles).image
        tiny_model.set_materialised_attention(True)
        naive = tiny_model.generate(shapes, styles).image
    torch.testing.assert_close(fused, naive, atol=1e-5, rtol=1e-5)


def test_same_weights_and_inputs_give_identical_outputs(tiny_config) -> None:
    onehot = random_onehot(tiny_config)
    image = torch.randn(2, 3, 32, 32)
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        with torch.no_grad():
            outs.append(CA2SIS(tiny_config).eval()(image, onehot).image)
    assert torch.equal(outs[0], outs[1])


def test_number_of_classes_is_a_parameter() -> None:
    config = preset("tiny", num_classes=151)
    model = CA2SIS(config)
    labels = torch.randint(0, 151, (1, 32, 32))
    out = model(torch.randn(1, 3, 32, 32), one_hot(labels, 151))
    assert out.image.shape == (1, 3, 32, 32)
    assert model.embed_mask(one_hot(labels, 151)).shape == (1, 150, 16)


def test_wrong_one_hot_is_refused_with_the_expected_shape_in_the_message(tiny_model) -> None:
    with pytest.raises(ValueError, match=r"B×19×H×W"):
        tiny_model.embed_mask(torch.zeros(1, 18, 32, 32))


def test_inconsistent_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="resolution"):
        preset("tiny", resolution=64)
    with pytest.raises(ValueError, match="unknown preset"):
        preset("nope")
    with pytest.raises(ValueError, match="at least one generator stage"):
        ModelConfig(name="x", stages=())
    assert StageConfig(32, True, 4, 32, False).inner == 128


def test_folded_cross_attention_to_few_tokens_equals_the_plain_computation() -> None:
    from ca2sis.nn.attention import Attention

    torch.manual_seed(0)
    attn = Attention(64, heads=4, head_dim=16, context_dim=24).eval()
    x, ctx = torch.randn(2, 50, 64), torch.randn(2, 5, 24)
    assert attn._fold_pays(5)
    with torch.no_grad():
        folded = attn(x, ctx)
        attn.materialise = True
        plain = attn(x, ctx)
    torch.testing.assert_close(folded, plain, atol=1e-5, rtol=1e-5)
