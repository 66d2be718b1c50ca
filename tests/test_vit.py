"""The vision transformer: patches, shapes, errors, and learning a simple task."""

import pytest
import torch

from nnbook.models.vit import VisionTransformer, accuracy, patchify, train_image_classifier


def test_patchify_cuts_images_row_by_row():
    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4)
    patches = patchify(images, 2)
    assert patches.shape == (2, 4, 4)
    assert patches[0, 0].tolist() == [0, 1, 4, 5]          # top-left patch
    assert patches[0, 1].tolist() == [2, 3, 6, 7]          # top-right patch
    assert patches[1, 3].tolist() == [26, 27, 30, 31]      # bottom-right of image 2
    with pytest.raises(ValueError, match="divisible by the patch size"):
        patchify(images, 3)


def test_vit_shapes_and_errors():
    model = VisionTransformer()
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model(torch.zeros(3, 1, 32, 32))
    with pytest.raises(ValueError, match="divisible by patch"):
        VisionTransformer(image_size=28, patch=5)
    with pytest.raises(ValueError, match="divisible by heads"):
        VisionTransformer(dim=30, heads=4)
    with pytest.raises(ValueError, match="same positive number"):
        train_image_classifier(model, torch.zeros(3, 1, 28, 28), torch.zeros(2))


def test_vit_needs_its_position_embeddings_and_learns():
    """Class = which quadrant holds a bright square: only positions tell them apart."""
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (400,), generator=gen)
    X = 0.1 * torch.rand(400, 1, 28, 28, generator=gen)
    for i, c in enumerate(y.tolist()):
        r, col = divmod(c, 2)
        X[i, 0, 14 * r:14 * r + 14, 14 * col:14 * col + 14] += 1.0
    torch.manual_seed(0)
    model = VisionTransformer(num_classes=4)
    train_image_classifier(model, X[:300], y[:300], steps=150, lr=3e-3)
    assert accuracy(model, X[300:], y[300:]) > 0.95
    # the same patches in another order give another answer: positions are used
    perm = torch.randperm(16, generator=gen)
    with torch.no_grad():
        tokens = model.embed(patchify(X[300:310], 7))
        a = model.blocks[0](torch.cat([model.cls.expand(10, -1, -1), tokens], 1) + model.pos)
        b = model.blocks[0](torch.cat([model.cls.expand(10, -1, -1), tokens[:, perm]], 1)
                            + model.pos)
    assert (a[:, 0] - b[:, 0]).abs().max() > 1e-3
    # and the learned position embeddings are what tells the quadrants apart:
    # without them (zeroed), the class token cannot know where the bright patches are
    with torch.no_grad():
        model.pos.zero_()
    assert accuracy(model, X[300:], y[300:]) < 0.6


def test_patch_embedding_is_a_strided_convolution():
    """patchify + Linear = Conv2d with kernel = stride = patch (as in the ViT paper)."""
    torch.manual_seed(1)
    model = VisionTransformer(image_size=28, patch=7, dim=16, heads=4)
    conv = torch.nn.Conv2d(1, 16, kernel_size=7, stride=7)
    with torch.no_grad():
        conv.weight.copy_(model.embed.weight.view(16, 1, 7, 7))
        conv.bias.copy_(model.embed.bias)
    images = torch.randn(3, 1, 28, 28)
    expected = conv(images).flatten(2).transpose(1, 2)        # (N, 16 patches, dim)
    torch.testing.assert_close(model.embed(patchify(images, 7)), expected, atol=1e-5, rtol=0)


def test_encoder_block_matches_torch_multihead_attention():
    from nnbook.models.vit import EncoderBlock
    torch.manual_seed(2)
    block = EncoderBlock(dim=12, heads=3, mlp_ratio=2)
    mha = torch.nn.MultiheadAttention(12, 3, batch_first=True)
    with torch.no_grad():          # the same q, k, v and output projections
        mha.in_proj_weight.copy_(block.qkv.weight)
        mha.in_proj_bias.copy_(block.qkv.bias)
        mha.out_proj.weight.copy_(block.proj.weight)
        mha.out_proj.bias.copy_(block.proj.bias)
    x = torch.randn(2, 5, 12)
    h = block.norm1(x)
    x1 = x + mha(h, h, h, need_weights=False)[0]
    expected = x1 + block.mlp(block.norm2(x1))
    torch.testing.assert_close(block(x), expected, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="divisible by heads"):
        EncoderBlock(dim=10, heads=3)
