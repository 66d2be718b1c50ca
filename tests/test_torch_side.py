"""nnbook.models, nnbook.training, nnbook.utils and nnbook.plotting."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

from nnbook.models import SimpleNN, count_parameters  # noqa: E402
from nnbook.plotting import plot_decision_boundary, plot_history, use_book_style  # noqa: E402
from nnbook.training import evaluate, fit, make_loader  # noqa: E402
from nnbook.utils import seed_everything  # noqa: E402


def test_simple_nn_structure_and_parameter_count():
    model = SimpleNN(input_size=10, hidden_sizes=[64, 32, 16], output_size=2)
    sizes = [10, 64, 32, 16, 2]
    expected = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    assert count_parameters(model) == expected == 3346
    assert model(torch.zeros(5, 10)).shape == (5, 2)


def test_simple_nn_bad_arguments():
    with pytest.raises(ValueError, match="hidden_sizes must be a non-empty list"):
        SimpleNN(3, [], 2)
    with pytest.raises(ValueError, match="hidden_sizes must be a non-empty list"):
        SimpleNN(3, [4, 0], 2)
    with pytest.raises(TypeError, match="hidden_sizes must be a list"):
        SimpleNN(3, 4, 2)
    with pytest.raises(ValueError, match="output_size must be a positive integer"):
        SimpleNN(3, [4], 0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\), got \(2, 4\)"):
        SimpleNN(3, [4], 2)(torch.zeros(2, 4))


def test_fit_learns_moons_and_evaluate_reports_it(capsys):
    seed_everything(0)
    X, y = make_moons(400, noise=0.1, random_state=0)
    loader = make_loader(X, y, batch_size=32, seed=0)
    model = SimpleNN(2, [32, 32], 2)
    history = fit(model, loader, torch.nn.functional.cross_entropy,
                  torch.optim.Adam(model.parameters(), lr=0.01), epochs=30, print_every=10,
                  val_loader=make_loader(X, y, shuffle=False))
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["loss"][-1] < 0.3 * history["loss"][0]
    result = evaluate(model, make_loader(X, y, shuffle=False), torch.nn.functional.cross_entropy)
    assert result["accuracy"] > 0.95
    assert result["accuracy"] == history["val_accuracy"][-1]
    assert "epoch  30/30" in capsys.readouterr().out


def test_fit_regression_has_no_accuracy():
    X = np.linspace(-1, 1, 64).reshape(-1, 1)
    loader = make_loader(X, 2 * X, batch_size=16)
    model = torch.nn.Linear(1, 1)
    history = fit(model, loader, torch.nn.functional.mse_loss,
                  torch.optim.SGD(model.parameters(), lr=0.1), epochs=20, print_every=0)
    assert set(history) == {"loss"} and history["loss"][-1] < 0.01


def test_make_loader_and_fit_reject_bad_input():
    with pytest.raises(ValueError, match="same number of samples, got 3 and 2"):
        make_loader(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit(torch.nn.Linear(1, 1), [], None, None, epochs=0)


def test_seed_everything_makes_torch_and_numpy_repeat():
    seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))
    seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        seed_everything(-1)


def test_plotting_helpers():
    import matplotlib.pyplot as plt
    use_book_style()
    assert matplotlib.rcParams["figure.facecolor"] == "white"
    X, y = make_moons(50, random_state=0)
    ax = plot_decision_boundary(lambda P: (P[:, 1] > 0.25).astype(int), X, y, title="t")
    assert ax.get_title() == "t" and len(ax.collections) >= 3
    ax = plot_history({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]})
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        plot_decision_boundary(lambda P: P[:, 0], np.zeros((4, 3)), np.zeros(4))
    plt.close("all")
