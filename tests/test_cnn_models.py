"""nnbook.models.cnn: LeNet-5 and SmallCNN."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from nnbook.models import count_parameters
from nnbook.models.cnn import LeNet5, ResidualBlock, ResidualCNN, SmallCNN, conv_bn_relu
from nnbook.training import evaluate, fit, make_loader
from nnbook.utils import seed_everything


def conv_params(c_in, c_out, k, bias=True):
    return c_out * (c_in * k * k + bias)


def linear_params(n_in, n_out):
    return n_in * n_out + n_out


def test_lenet5_shapes_and_parameter_count():
    model = LeNet5()
    expected = (conv_params(1, 6, 5) + conv_params(6, 16, 5) + linear_params(400, 120)
                + linear_params(120, 84) + linear_params(84, 10))
    assert count_parameters(model) == expected == 61706
    x = torch.zeros(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model.features[0].weight.shape == (6, 1, 5, 5)
    assert model.features[:2](x).shape == (3, 6, 28, 28)
    assert model.features(x).shape == (3, 16, 5, 5)
    assert LeNet5(num_classes=3)(x).shape == (3, 3)


def test_lenet5_tanh_variant():
    model = LeNet5(activation="tanh")
    assert any(isinstance(m, torch.nn.Tanh) for m in model.modules())
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.modules())
    assert count_parameters(model) == 61706


def test_small_cnn_shapes_and_parameter_count():
    model = SmallCNN()
    c1, c2, c3 = 8, 16, 32
    bn = 2 * (c1 + c2 + c3)  # a scale and a shift per channel
    expected = (conv_params(1, c1, 3, bias=False) + conv_params(c1, c2, 3, bias=False)
                + conv_params(c2, c3, 3, bias=False) + bn + linear_params(c3 * 3 * 3, 10))
    assert count_parameters(model) == expected == 8834
    model.eval()
    x = torch.zeros(4, 1, 28, 28)
    assert model(x).shape == (4, 10)
    assert model.features(x).shape == (4, 32, 3, 3)
    wide = SmallCNN(num_classes=5, in_channels=3, widths=(4, 8, 8), image_size=32)
    assert wide(torch.zeros(2, 3, 32, 32)).shape == (2, 5)


def test_conv_bn_relu_block():
    block = conv_bn_relu(2, 5)
    out = block(torch.randn(3, 2, 6, 6))
    assert out.shape == (3, 5, 6, 6)
    assert (out >= 0).all()
    assert block[0].bias is None


@pytest.mark.parametrize("model,x,message", [
    (LeNet5(), torch.zeros(2, 28, 28), r"LeNet5: x must have shape \(N, 1, 28, 28\), "
                                       r"got \(2, 28, 28\)"),
    (LeNet5(), torch.zeros(2, 3, 28, 28), r"got \(2, 3, 28, 28\)"),
    (LeNet5(), torch.zeros(2, 1, 32, 32), r"got \(2, 1, 32, 32\)"),
    (SmallCNN(), torch.zeros(2, 1, 8, 8), r"SmallCNN: x must have shape \(N, 1, 28, 28\), "
                                          r"got \(2, 1, 8, 8\)"),
    (SmallCNN(in_channels=3), torch.zeros(2, 1, 28, 28), r"\(N, 3, 28, 28\)"),
])
def test_models_reject_bad_input_shapes(model, x, message):
    with pytest.raises(ValueError, match=message):
        model(x)


def test_models_reject_non_tensors_and_bad_arguments():
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        LeNet5()(np.zeros((1, 1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="num_classes must be a positive integer, got 0"):
        LeNet5(num_classes=0)
    with pytest.raises(ValueError, match="activation must be one of"):
        LeNet5(activation="sigmoid")
    with pytest.raises(ValueError, match="widths must list 3 channel counts"):
        SmallCNN(widths=(8, 16))
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        SmallCNN(dropout=1.0)
    with pytest.raises(ValueError, match="image_size must be >= 8"):
        SmallCNN(image_size=6)


def _digits_28x28():
    """sklearn's 8x8 digits, upsampled to 28x28 (a small, offline stand-in for MNIST)."""
    digits = load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32)[:, None]
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    order = np.random.default_rng(0).permutation(len(x))
    return x.numpy()[order], digits.target[order]


@pytest.mark.parametrize("make_model", [LeNet5, SmallCNN, ResidualCNN])
def test_models_learn_the_digits(make_model):
    torch.manual_seed(0)
    seed_everything(0)
    X, y = _digits_28x28()
    train = make_loader(X[:1200], y[:1200], batch_size=32, seed=0)
    test = make_loader(X[1200:], y[1200:], batch_size=256, shuffle=False)
    model = make_model()
    history = fit(model, train, torch.nn.CrossEntropyLoss(),
                  torch.optim.Adam(model.parameters(), lr=3e-3), epochs=4, print_every=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert evaluate(model, test, torch.nn.CrossEntropyLoss())["accuracy"] > 0.9


def test_residual_block_adds_its_input_back():
    torch.manual_seed(0)
    block = ResidualBlock(4, 4).eval()
    assert isinstance(block.shortcut, torch.nn.Identity)
    x = torch.randn(2, 4, 6, 6)
    with torch.no_grad():
        F_x = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
        torch.testing.assert_close(block(x), torch.relu(F_x + x))
        block.bn2.weight.zero_()                 # F(x) = 0: the block passes relu(x) on
        block.bn2.bias.zero_()
        torch.testing.assert_close(block(x), torch.relu(x))


def test_residual_block_projects_when_the_shape_changes():
    block = ResidualBlock(3, 8, stride=2)
    assert isinstance(block.shortcut[0], torch.nn.Conv2d)
    assert block.shortcut[0].kernel_size == (1, 1) and block.shortcut[0].stride == (2, 2)
    assert block(torch.randn(2, 3, 7, 7)).shape == (2, 8, 4, 4)
    assert not isinstance(ResidualBlock(3, 8).shortcut, torch.nn.Identity)


def test_residual_cnn_shapes_parameters_and_global_average_pooling():
    model = ResidualCNN()
    c1, c2, c3 = 8, 16, 32
    stem = conv_params(1, c1, 3, bias=False) + 2 * c1

    def block(c_in, c_out):
        return (conv_params(c_in, c_out, 3, bias=False) + conv_params(c_out, c_out, 3, bias=False)
                + conv_params(c_in, c_out, 1, bias=False) + 3 * 2 * c_out)

    expected = stem + block(c1, c2) + block(c2, c3) + linear_params(c3, 10)
    assert count_parameters(model) == expected == 18626
    model.eval()
    x = torch.randn(3, 1, 28, 28)
    assert model.features(x).shape == (3, 32, 7, 7)
    assert model(x).shape == (3, 10)
    # global average pooling: the head sees one number per channel, whatever the image size
    with torch.no_grad():
        pooled = model.pool(model.features(x)).flatten(1)
        torch.testing.assert_close(pooled, model.features(x).mean(dim=(2, 3)))
    assert model(torch.randn(2, 1, 40, 36)).shape == (2, 10)
    assert ResidualCNN(num_classes=3, in_channels=3, widths=(4, 8))(
        torch.randn(2, 3, 9, 9)).shape == (2, 3)


def test_residual_cnn_rejects_bad_input():
    with pytest.raises(ValueError, match=r"ResidualCNN: x must have shape \(N, 1, H, W\) with "
                                         r"H, W >= 4, got \(2, 28, 28\)"):
        ResidualCNN()(torch.zeros(2, 28, 28))
    with pytest.raises(ValueError, match=r"got \(2, 1, 3, 28\)"):
        ResidualCNN()(torch.zeros(2, 1, 3, 28))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        ResidualCNN()(np.zeros((1, 1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="widths must be a positive integer, got 0"):
        ResidualCNN(widths=(8, 0))
    with pytest.raises(ValueError, match="widths must list at least one channel count"):
        ResidualCNN(widths=())
    with pytest.raises(ValueError, match="stride must be 1 or 2, got 3"):
        ResidualBlock(2, 2, stride=3)
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        ResidualBlock(0, 2)
