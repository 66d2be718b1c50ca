"""One table of bad inputs across the public API.

Each row calls one public function or class with one bad argument and
asserts that nnbook raises the documented error type *at the boundary*, with
a message that names the argument (and, where it helps, what was expected).
An error from deep inside NumPy, torch or Python (a broadcasting error, a
ZeroDivisionError, an AxisError) fails the row, and so does silence.
"""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from nnbook import claims, plotting, utils  # noqa: E402
from nnbook import scratch as S  # noqa: E402
from nnbook.scratch import training_tools as TT  # noqa: E402
from nnbook.scratch import linear_separability as LS  # noqa: E402

nan = float("nan")
X2 = np.zeros((4, 2))
X3 = np.ones((5, 3))
y3 = np.array([0, 1, 2, 1, 0])


def mlp():
    return S.MLP([3, 4, 3], seed=0)


def dense_after_forward():
    d = S.Dense(3, 2, seed=0)
    d.forward(np.ones((5, 3)))
    return d


def act_after_forward(name="relu"):
    a = S.Activation(name)
    a.forward(np.ones((5, 3)))
    return a


def conv_after_forward():
    c = S.Conv2D(1, 2, 3, seed=0)
    c.forward(np.ones((2, 1, 5, 5)))
    return c


def pool_after_forward(cls=None):
    p = (cls or S.MaxPool2D)(2)
    p.forward(np.ones((2, 1, 4, 4)))
    return p


def fitted_early_stopping():
    return TT.EarlyStopping(patience=2)


CASES = []


def case(id_, fn, exc, *names):
    """A row: ``fn()`` must raise ``exc`` with a message naming each of ``names``."""
    CASES.append(pytest.param(fn, exc, names, id=id_))


# --- scratch: activations ------------------------------------------------
case("sigmoid-str", lambda: S.sigmoid("abc"), TypeError, "z")
case("sigmoid-object", lambda: S.sigmoid([None, 1]), TypeError, "z")
case("relu-complex", lambda: S.relu(np.array([1 + 2j])), TypeError, "z")
case("tanh-str", lambda: S.tanh(["a"]), TypeError, "z")
case("relu-derivative-str", lambda: S.relu_derivative("x"), TypeError, "z")
case("leaky-relu-slope-str", lambda: S.leaky_relu(np.ones(3), "0.1"), TypeError,
     "negative_slope")
case("leaky-relu-slope-nan", lambda: S.leaky_relu(np.ones(3), nan), ValueError,
     "negative_slope")
case("leaky-relu-derivative-slope", lambda: S.leaky_relu_derivative(np.ones(3), None),
     TypeError, "negative_slope")
case("softmax-scalar", lambda: S.softmax(3.0), ValueError, "z")
case("softmax-str", lambda: S.softmax(["a", "b"]), TypeError, "z")
case("softmax-jacobian-2d", lambda: S.softmax_jacobian(np.ones((2, 3))), ValueError, "z",
     "1-D")
case("softmax-backward-shapes", lambda: S.softmax_backward(np.ones((2, 3)), np.ones((3, 2))),
     ValueError, "grad_s")
case("sigmoid-derivative-str", lambda: S.sigmoid_derivative("z"), TypeError, "z")
case("tanh-derivative-object", lambda: S.tanh_derivative([object()]), TypeError, "z")

# --- scratch: losses -----------------------------------------------------
case("mse-shapes", lambda: S.mse(np.ones((3, 1)), np.ones(3)), ValueError, "y_pred", "y_true")
case("mse-nan", lambda: S.mse(np.array([nan]), np.array([1.0])), ValueError, "y_pred", "NaN")
case("mse-str", lambda: S.mse("a", "b"), TypeError, "y_pred")
case("mse-empty", lambda: S.mse(np.ones(0), np.ones(0)), ValueError, "y_pred")
case("mse-grad-shapes", lambda: S.mse_grad(np.ones(3), np.ones(4)), ValueError, "y_true")
case("bce-not-probabilities", lambda: S.binary_cross_entropy(np.array([2.0]), np.array([1.0])),
     ValueError, "y_pred")
case("bce-bad-targets", lambda: S.binary_cross_entropy(np.array([0.5]), np.array([3.0])),
     ValueError, "y_true")
case("bce-grad-shapes", lambda: S.binary_cross_entropy_grad(np.ones(2) / 2, np.ones(3)),
     ValueError, "y_pred")
case("bce-logits-shapes", lambda: S.binary_cross_entropy_with_logits(np.ones(2), np.ones(3)),
     ValueError, "logits")
case("bce-logits-grad-nan", lambda: S.binary_cross_entropy_with_logits_grad(
    np.array([nan]), np.array([1.0])), ValueError, "logits")
case("xent-1d-logits", lambda: S.softmax_cross_entropy(np.ones(3), np.array([0])), ValueError,
     "logits")
case("xent-label-range", lambda: S.softmax_cross_entropy(np.ones((2, 3)), np.array([0, 3])),
     ValueError, "labels")
case("xent-label-count", lambda: S.softmax_cross_entropy(np.ones((2, 3)), np.array([0])),
     ValueError, "labels")
case("xent-float-labels", lambda: S.softmax_cross_entropy(np.ones((2, 3)), np.array([0.5, 1])),
     TypeError, "labels")
case("xent-2d-labels", lambda: S.softmax_cross_entropy(np.ones((2, 3)), np.zeros((2, 3))),
     ValueError, "labels")
case("xent-grad-negative-label", lambda: S.softmax_cross_entropy_grad(
    np.ones((2, 3)), np.array([0, -1])), ValueError, "labels")
case("xent-empty", lambda: S.softmax_cross_entropy(np.ones((0, 3)), np.zeros(0, int)),
     ValueError, "logits")
case("log-softmax-scalar", lambda: S.log_softmax(1.0), ValueError, "logits")
case("log-softmax-str", lambda: S.log_softmax("x"), TypeError, "logits")

# --- scratch: layers -----------------------------------------------------
case("dense-zero", lambda: S.Dense(0, 3), ValueError, "n_in")
case("dense-float", lambda: S.Dense(2.7, 3), TypeError, "n_in")
case("dense-n-out-negative", lambda: S.Dense(3, -1), ValueError, "n_out")
case("dense-n-out-str", lambda: S.Dense(3, "4"), TypeError, "n_out")
case("dense-bool", lambda: S.Dense(True, 3), TypeError, "n_in")
case("dense-init", lambda: S.Dense(3, 2, init="kaiming"), ValueError, "init")
case("dense-seed-negative", lambda: S.Dense(3, 2, seed=-1), ValueError, "seed")
case("dense-seed-str", lambda: S.Dense(3, 2, seed="0"), TypeError, "seed")
case("dense-dtype", lambda: S.Dense(3, 2, dtype=np.int32), ValueError, "dtype")
case("dense-forward-features", lambda: S.Dense(3, 2).forward(np.ones((4, 5))), ValueError,
     "X", "3")
case("dense-forward-str", lambda: S.Dense(3, 2).forward("abc"), TypeError, "X")
case("dense-forward-nan", lambda: S.Dense(3, 2).forward(np.full((2, 3), nan)), ValueError,
     "X", "NaN")
case("dense-forward-scalar", lambda: S.Dense(3, 2).forward(1.0), ValueError, "X")
case("dense-backward-shape", lambda: dense_after_forward().backward(np.ones((5, 3))),
     ValueError, "dZ", r"\(5, 2\)")
case("dense-backward-rows", lambda: dense_after_forward().backward(np.ones((4, 2))),
     ValueError, "dZ")
case("dense-backward-str", lambda: dense_after_forward().backward("x"), TypeError, "dZ")
case("dense-backward-first", lambda: S.Dense(3, 2).backward(np.ones((5, 2))), RuntimeError,
     "forward")
case("init-weights-zero", lambda: S.init_weights(0, 2), ValueError, "n_in")
case("init-weights-name", lambda: S.init_weights(2, 2, "glorot"), ValueError, "init")
case("activation-name", lambda: S.Activation("swishy"), ValueError, "activation")
case("activation-kwargs", lambda: S.Activation("relu", alpha=0.1), TypeError, "alpha")
case("activation-slope", lambda: S.Activation("leaky_relu", negative_slope="x"), TypeError,
     "negative_slope")
case("activation-backward-shape", lambda: act_after_forward().backward(np.ones((5, 4))),
     ValueError, "dA")
case("activation-backward-first", lambda: S.Activation("tanh").backward(np.ones(3)),
     RuntimeError, "forward")
case("activation-forward-str", lambda: S.Activation("tanh").forward("x"), TypeError, "Z")
case("dropout-p-one", lambda: S.Dropout(1.0), ValueError, "p")
case("dropout-p-negative", lambda: S.Dropout(-0.1), ValueError, "p")
case("dropout-p-str", lambda: S.Dropout("0.5"), TypeError, "p")
case("dropout-p-nan", lambda: S.Dropout(nan), ValueError, "p")
case("dropout-backward-first", lambda: S.Dropout(0.5).backward(np.ones(3)), RuntimeError,
     "forward")
case("parameter-str", lambda: S.Parameter("abc"), TypeError, "data")
case("parameter-name", lambda: S.Parameter(np.ones(2), name=3), TypeError, "name")
case("parameter-dtype", lambda: S.Parameter(np.ones(2)).astype("int8"), ValueError, "dtype")

# --- scratch: networks ---------------------------------------------------
case("mlp-sizes-short", lambda: S.MLP([3]), ValueError, "layer_sizes")
case("mlp-sizes-zero", lambda: S.MLP([3, 0, 2]), ValueError, "layer_sizes")
case("mlp-sizes-float", lambda: S.MLP([3, 2.5, 2]), ValueError, "layer_sizes")
case("mlp-sizes-int", lambda: S.MLP(3), TypeError, "layer_sizes")
case("mlp-activation", lambda: S.MLP([3, 2], activation="gelu"), ValueError, "activation")
case("mlp-output-activation", lambda: S.MLP([3, 2], output_activation="softmax"), ValueError,
     "output_activation")
case("mlp-dropout", lambda: S.MLP([3, 4, 2], dropout=1.5), ValueError, "dropout")
case("mlp-dropout-str", lambda: S.MLP([3, 4, 2], dropout="0.2"), TypeError, "dropout")
case("mlp-init", lambda: S.MLP([3, 2], init="uniform"), ValueError, "init")
case("mlp-dtype", lambda: S.MLP([3, 2], dtype="float16"), ValueError, "dtype")
case("mlp-forward-features", lambda: mlp().forward(np.ones((2, 4))), ValueError, "X")
case("mlp-forward-1d", lambda: mlp().forward(np.ones(3)), ValueError, "X", "2-D")
case("mlp-forward-inf", lambda: mlp().forward(np.full((1, 3), np.inf)), ValueError, "X")
case("mlp-backward-shape", lambda: (lambda m: (m.forward(X3), m.backward(np.ones((5, 2)))))(
    mlp()), ValueError, "dZ")
case("mlp-fit-empty", lambda: mlp().fit(np.ones((0, 3)), np.zeros(0, int), verbose=0),
     ValueError, "X")
case("mlp-fit-lengths", lambda: mlp().fit(X3, y3[:4], verbose=0), ValueError, "X", "y")
case("mlp-fit-labels-range", lambda: mlp().fit(X3, y3 + 1, verbose=0), ValueError, "y")
case("mlp-fit-labels-2d", lambda: mlp().fit(X3, np.eye(3)[y3], verbose=0), ValueError, "y")
case("mlp-fit-labels-str", lambda: mlp().fit(X3, np.array(list("abcab")), verbose=0),
     TypeError, "y")
case("mlp-fit-y-none", lambda: mlp().fit(X3, None, verbose=0), TypeError, "y")
case("mlp-fit-epochs-zero", lambda: mlp().fit(X3, y3, epochs=0, verbose=0), ValueError,
     "epochs")
case("mlp-fit-epochs-float", lambda: mlp().fit(X3, y3, epochs=2.5, verbose=0), TypeError,
     "epochs")
case("mlp-fit-batch-zero", lambda: mlp().fit(X3, y3, batch_size=0, verbose=0), ValueError,
     "batch_size")
case("mlp-fit-batch-str", lambda: mlp().fit(X3, y3, batch_size="32", verbose=0), TypeError,
     "batch_size")
case("mlp-fit-loss", lambda: mlp().fit(X3, y3, loss="hinge", verbose=0), ValueError, "loss")
case("mlp-fit-loss-type", lambda: mlp().fit(X3, y3, loss=3, verbose=0), TypeError, "loss")
case("mlp-fit-mse-shape", lambda: mlp().fit(X3, np.ones(5), loss="mse", verbose=0),
     ValueError, "y")
case("mlp-fit-bce-targets", lambda: S.MLP([3, 1]).fit(X3, np.full((5, 1), 2.0),
                                                       loss="binary_cross_entropy_with_logits",
                                                       verbose=0), ValueError, "y")
case("mlp-fit-verbose", lambda: mlp().fit(X3, y3, verbose="yes"), TypeError, "verbose")
case("mlp-fit-seed", lambda: mlp().fit(X3, y3, seed=-3, verbose=0), ValueError, "seed")
case("mlp-fit-dtype", lambda: mlp().fit(X3, y3, dtype=int, verbose=0), ValueError, "dtype")
case("mlp-fit-foreign-optimizer", lambda: mlp().fit(X3, y3, optimizer=S.Adam(mlp().parameters()),
                                                    verbose=0), ValueError, "optimizer")
case("mlp-fit-optimizer-type", lambda: mlp().fit(X3, y3, optimizer="adam", verbose=0),
     TypeError, "optimizer")
case("mlp-fit-validation-type", lambda: mlp().fit(X3, y3, validation_data=X3, verbose=0),
     TypeError, "validation_data")
case("mlp-fit-validation-labels", lambda: mlp().fit(X3, y3, validation_data=(X3, y3 + 5),
                                                    verbose=0), ValueError, "y_val")
case("mlp-fit-validation-features", lambda: mlp().fit(X3, y3, verbose=0,
                                                      validation_data=(np.ones((2, 4)), y3[:2])),
     ValueError, "X")
case("mlp-fit-evaluate-train", lambda: mlp().fit(X3, y3, evaluate_train="no", verbose=0),
     TypeError, "evaluate_train")
case("mlp-fit-diverges", lambda: (lambda m: m.fit(
    X3 * 100, np.ones((5, 3)), loss="mse", optimizer=S.SGD(m.parameters(), lr=1e3), epochs=200,
    verbose=0))(mlp()), FloatingPointError, "lr")
case("mlp-fit-print-every", lambda: mlp().fit(X3, y3, print_every=-1), ValueError,
     "print_every")
case("mlp-predict-empty", lambda: mlp().predict(np.ones((0, 3))), ValueError, "X")
case("mlp-predict-labels-empty", lambda: mlp().predict_labels(np.ones((0, 3))), ValueError,
     "X")
case("mlp-fit-bce-without-sigmoid", lambda: S.MLP([3, 1]).fit(
    X3, np.ones((5, 1)), loss="binary_cross_entropy", verbose=0), ValueError,
    "output_activation", "binary_cross_entropy_with_logits")
case("mlp-save-missing-folder", lambda: mlp().save("/nonexistent/folder/model.npz"),
     FileNotFoundError, "path", "folder")
case("mlp-load-not-npz", lambda: mlp().load(__file__), ValueError, "path", "npz")
case("mlp-accuracy-shape", lambda: mlp().accuracy(X3, y3[:3]), ValueError, "y")
case("mlp-train-mode", lambda: mlp().train("yes"), TypeError, "mode")
case("mlp-load-state-missing", lambda: mlp().load_state_dict({"0.W": np.ones((3, 4))}),
     KeyError, "missing")
case("mlp-load-state-shape", lambda: mlp().load_state_dict(
    {**mlp().state_dict(), "0.W": np.ones((4, 3))}), ValueError, "0.W", r"\(3, 4\)")
case("mlp-load-state-type", lambda: mlp().load_state_dict([1, 2]), TypeError, "state_dict")
case("mlp-load-state-str-values", lambda: mlp().load_state_dict(
    {**mlp().state_dict(), "0.b": np.array(["a"] * 4)}), TypeError, "0.b")
case("mlp-save-path", lambda: mlp().save(3), TypeError, "path")
case("mlp-load-missing-file", lambda: mlp().load("/nonexistent/model.npz"), FileNotFoundError,
     "path")
case("sequential-empty", lambda: S.Sequential([]), ValueError, "layers")
case("sequential-not-layers", lambda: S.Sequential([1, 2]), TypeError, "layers")
case("sequential-class-not-instance", lambda: S.Sequential([S.Flatten]), TypeError, "layers")
case("sequential-str", lambda: S.Sequential("dense"), TypeError, "layers")
case("network-sizes", lambda: S.NeuralNetworkFromScratch([3]), ValueError, "layer_sizes")
case("network-forward", lambda: S.NeuralNetworkFromScratch([3, 2, 1]).forward(np.ones((2, 4))),
     ValueError, "X")
case("network-train-y", lambda: S.NeuralNetworkFromScratch([3, 2, 1]).train(
    np.ones((4, 3)), np.ones((4, 2)), epochs=1, print_every=0), ValueError, "y")
case("network-train-epochs", lambda: S.NeuralNetworkFromScratch([3, 2, 1]).train(
    np.ones((4, 3)), np.ones(4), epochs=-1), ValueError, "epochs")
case("network-train-lr", lambda: S.NeuralNetworkFromScratch([3, 2, 1]).train(
    np.ones((4, 3)), np.ones(4), learning_rate="0.1"), TypeError, "learning_rate")
case("network-backward-lr", lambda: S.NeuralNetworkFromScratch([3, 2, 1]).backward(
    np.ones((4, 3)), np.ones(4), learning_rate=nan), ValueError, "learning_rate")

# --- scratch: optimizers -------------------------------------------------
P = [S.Parameter(np.ones(2))]
case("sgd-lr-str", lambda: S.SGD(P, lr="0.1"), TypeError, "lr")
case("sgd-lr-negative", lambda: S.SGD(P, lr=-0.1), ValueError, "lr")
case("sgd-lr-nan", lambda: S.SGD(P, lr=nan), ValueError, "lr")
case("sgd-lr-none", lambda: S.SGD(P, lr=None), TypeError, "lr")
case("sgd-momentum", lambda: S.SGD(P, momentum=1.0), ValueError, "momentum")
case("sgd-weight-decay", lambda: S.SGD(P, weight_decay=-1), ValueError, "weight_decay")
case("sgd-weight-decay-str", lambda: S.SGD(P, weight_decay="0"), TypeError, "weight_decay")
case("sgd-params-array", lambda: S.SGD(np.ones(3)), TypeError, "params")
case("sgd-params-model", lambda: S.SGD(mlp()), TypeError, "params")
case("sgd-params-empty", lambda: S.SGD([]), ValueError, "params")
case("sgd-params-duplicate", lambda: S.SGD(P + P), ValueError, "params")
case("momentum-momentum", lambda: S.Momentum(P, momentum=-0.5), ValueError, "momentum")
case("adam-eps-negative", lambda: S.Adam(P, eps=-1), ValueError, "eps")
case("adam-eps-zero", lambda: S.Adam(P, eps=0), ValueError, "eps")
case("adam-betas", lambda: S.Adam(P, betas=(0.9, 1.0)), ValueError, "betas")
case("adam-betas-scalar", lambda: S.Adam(P, betas=0.9), TypeError, "betas")
case("adam-betas-str", lambda: S.Adam(P, betas=("a", 0.9)), TypeError, "betas")
case("adam-lr-inf", lambda: S.Adam(P, lr=float("inf")), ValueError, "lr")
case("rmsprop-alpha", lambda: S.RMSprop(P, alpha=2), ValueError, "alpha")
case("rmsprop-eps", lambda: S.RMSprop(P, eps=-1e-8), ValueError, "eps")
case("rmsprop-params", lambda: S.RMSprop([np.ones(2)]), TypeError, "params")

# --- scratch: gradient checking -----------------------------------------
case("check-gradients-model", lambda: S.check_gradients("net", X3, y3), TypeError, "model")
case("check-gradients-h", lambda: S.check_gradients(mlp(), X3, y3, h=0), ValueError, "h")
case("check-gradients-max-entries", lambda: S.check_gradients(mlp(), X3, y3, max_entries=0),
     ValueError, "max_entries")
case("check-gradients-loss", lambda: S.check_gradients(mlp(), X3, y3, loss="l1"), ValueError,
     "loss")
case("check-gradients-X", lambda: S.check_gradients(mlp(), "X", y3), TypeError, "X")
case("numerical-gradient-list", lambda: S.numerical_gradient(lambda: 0.0, [1.0, 2.0]),
     TypeError, "x")
case("numerical-gradient-f", lambda: S.numerical_gradient(3, np.ones(2)), TypeError, "f")
case("numerical-gradient-h", lambda: S.numerical_gradient(lambda: 0.0, np.ones(2), h=-1),
     ValueError, "h")
case("relative-error-shapes", lambda: S.relative_error(np.ones(2), np.ones(3)), ValueError,
     "a", "b")
case("relative-error-str", lambda: S.relative_error("a", np.ones(1)), TypeError, "a")

# --- scratch: convolution and pooling ------------------------------------
case("im2col-3d", lambda: S.im2col(np.ones((1, 5, 5)), 3), ValueError, "X", "4-D")
case("im2col-kernel", lambda: S.im2col(np.ones((1, 1, 5, 5)), 0), ValueError, "kernel_size")
case("im2col-too-big", lambda: S.im2col(np.ones((1, 1, 2, 2)), 3), ValueError, "kernel")
case("im2col-str", lambda: S.im2col("abc", 3), TypeError, "X")
case("col2im-shape", lambda: S.col2im(np.ones((9, 3)), (1, 1, 5, 5), 3), ValueError, "cols")
case("col2im-X-shape", lambda: S.col2im(np.ones((9, 9)), (5, 5), 3), ValueError, "X_shape")
case("conv-output-size", lambda: S.conv_output_size(5, 7), ValueError, "kernel_size")
case("conv-output-size-stride", lambda: S.conv_output_size(5, 3, stride=0), ValueError,
     "stride")
case("conv2d-channels", lambda: S.Conv2D(0, 2, 3), ValueError, "in_channels")
case("conv2d-out-channels-float", lambda: S.Conv2D(1, 2.5, 3), ValueError, "out_channels")
case("conv2d-kernel", lambda: S.Conv2D(1, 2, (3, 0)), ValueError, "kernel_size")
case("conv2d-padding", lambda: S.Conv2D(1, 2, 3, padding=-1), ValueError, "padding")
case("conv2d-init", lambda: S.Conv2D(1, 2, 3, init="small"), ValueError, "init")
case("conv2d-forward-3d", lambda: S.Conv2D(1, 2, 3).forward(np.ones((1, 5, 5))), ValueError,
     "X")
case("conv2d-forward-channels", lambda: S.Conv2D(3, 2, 3).forward(np.ones((1, 1, 5, 5))),
     ValueError, "X", "channel")
case("conv2d-forward-small", lambda: S.Conv2D(1, 2, 5).forward(np.ones((1, 1, 3, 3))),
     ValueError, "kernel")
case("conv2d-backward-shape", lambda: conv_after_forward().backward(np.ones((2, 2, 4, 4))),
     ValueError, "dZ")
case("maxpool-kernel", lambda: S.MaxPool2D(0), ValueError, "kernel_size")
case("maxpool-stride", lambda: S.MaxPool2D(2, stride=-1), ValueError, "stride")
case("maxpool-forward-2d", lambda: S.MaxPool2D(2).forward(np.ones((4, 4))), ValueError, "X")
case("maxpool-backward-shape", lambda: pool_after_forward().backward(np.ones((2, 1, 3, 3))),
     ValueError, "dZ")
case("avgpool-backward-shape", lambda: pool_after_forward(S.AvgPool2D).backward(
    np.ones((2, 1, 4, 4))), ValueError, "dZ")
case("flatten-1d", lambda: S.Flatten().forward(np.ones(3)), ValueError, "X")
case("flatten-backward-size", lambda: (lambda f: (f.forward(np.ones((2, 3, 4))),
                                                  f.backward(np.ones((2, 5)))))(S.Flatten()),
     ValueError, "dA")

# --- scratch: normalization, recurrent, attention -------------------------
case("batchnorm-features", lambda: S.BatchNorm(0), ValueError, "num_features")
case("batchnorm-eps", lambda: S.BatchNorm(3, eps=-1), ValueError, "eps")
case("batchnorm-momentum", lambda: S.BatchNorm(3, momentum=2), ValueError, "momentum")
case("batchnorm-forward", lambda: S.BatchNorm(3).forward(np.ones((4, 2))), ValueError, "X")
case("layernorm-shape", lambda: S.LayerNorm(0), ValueError, "normalized_shape")
case("layernorm-forward", lambda: S.LayerNorm(3).forward(np.ones((4, 2))), ValueError, "X")
case("rnn-sizes", lambda: S.RNN(0, 3), ValueError, "input_size")
case("rnn-forward-2d", lambda: S.RNN(3, 4).forward(np.ones((2, 3))), ValueError, "X")
case("lstm-hidden", lambda: S.LSTM(3, -4), ValueError, "hidden_size")
case("gru-forward-features", lambda: S.GRU(3, 4).forward(np.ones((2, 5, 2))), ValueError, "X")
case("clip-grad-norm", lambda: S.clip_grad_norm(P, -1.0), ValueError, "max_norm")
case("mha-heads", lambda: S.MultiHeadAttention(6, 4), ValueError, "num_heads")
case("mha-forward", lambda: S.MultiHeadAttention(4, 2).forward(np.ones((2, 3, 5))),
     ValueError, "query")
case("sdpa-shapes", lambda: S.scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)),
                                                           np.ones((2, 4))), ValueError, "K")
case("positional-encoding", lambda: S.sinusoidal_positional_encoding(0, 4), ValueError,
     "length")

# --- scratch: perceptron and training tools -----------------------------
case("perceptron-size", lambda: S.Perceptron(0), ValueError, "input_size")
case("perceptron-lr", lambda: S.Perceptron(2, learning_rate=-1), ValueError, "learning_rate")
case("perceptron-predict", lambda: S.Perceptron(2).predict(np.ones(3)), ValueError, "x")
case("perceptron-train-labels", lambda: S.Perceptron(2).train(X2, np.array([0, 1, 2, 1])),
     ValueError, "y")
case("perceptron-train-epochs", lambda: S.Perceptron(2).train(X2, np.zeros(4), epochs=0),
     ValueError, "epochs")
case("perceptron-train-1d", lambda: S.Perceptron(2).train(np.ones(2), np.zeros(2)), ValueError,
     "X")
case("train-until-converged", lambda: LS.train_until_converged(X2, np.zeros(4), max_epochs=0),
     ValueError, "max_epochs")
case("threshold-layer", lambda: LS.threshold_layer(X2, np.ones((3, 2)), np.ones(2)), ValueError,
     "W")
case("split-2d-y", lambda: TT.train_val_test_split(np.ones((10, 2)), np.ones((10, 2))),
     ValueError, "y")
case("split-size", lambda: TT.train_val_test_split(np.ones((10, 2)), np.arange(10),
                                                   val_size=1.5), ValueError, "val_size")
case("split-size-str", lambda: TT.train_val_test_split(np.ones((10, 2)), np.arange(10),
                                                       test_size="0.2"), TypeError, "test_size")
case("split-lengths", lambda: TT.train_val_test_split(np.ones((10, 2)), np.arange(9)),
     ValueError, "X", "y")
case("split-stratify", lambda: TT.train_val_test_split(np.ones((10, 2)), np.arange(10) % 2,
                                                       stratify="yes"), TypeError, "stratify")
case("early-stopping-patience", lambda: TT.EarlyStopping(patience=0), ValueError, "patience")
case("early-stopping-delta", lambda: TT.EarlyStopping(min_delta=-1), ValueError, "min_delta")
case("early-stopping-loss", lambda: fitted_early_stopping().step("low", mlp()), TypeError,
     "val_loss")
case("early-stopping-nan", lambda: fitted_early_stopping().step(nan, mlp()), ValueError,
     "val_loss")
case("activation-stds-model", lambda: TT.activation_stds(S.Sequential([S.Dense(3, 2)]), X3),
     TypeError, "model")
case("early-stopping-restore-model", lambda: (lambda e: (e.step(1.0, mlp()), e.restore("m")))(
    TT.EarlyStopping()), TypeError, "model")
case("accuracy-history-perceptron", lambda: LS.accuracy_history("p", X2, np.zeros(4)),
     TypeError, "perceptron")
case("perceptron-train-empty", lambda: S.Perceptron(2).train(np.ones((0, 2)), np.zeros(0)),
     ValueError, "X")
case("global-grad-norm", lambda: S.global_grad_norm([1, 2]), TypeError, "params")
case("activation-stds-X", lambda: TT.activation_stds(mlp(), np.ones((2, 7))), ValueError, "X")
case("optimizer-path-steps", lambda: TT.optimizer_path(lambda t: t, np.ones(2),
                                                       lambda p: S.SGD(p), n_steps=-1),
     ValueError, "n_steps")

# --- scratch: autograd ---------------------------------------------------
case("value-str", lambda: S.Value("1.0"), TypeError, "data")
case("value-list", lambda: S.Value([1.0]), TypeError, "data")
case("value-nan", lambda: S.Value(nan), ValueError, "data")
case("value-divide-zero", lambda: S.Value(2) / 0, ZeroDivisionError, "division by zero")
case("value-log-negative", lambda: S.Value(-1.0).log(), ValueError, "log")
case("value-pow-value", lambda: S.Value(2.0) ** S.Value(3.0), TypeError, "exponent")
case("value-exp-overflow", lambda: S.Value(1000.0).exp(), OverflowError, "exp")
case("value-add-str", lambda: S.Value(2.0) + "a", TypeError, "data")

# --- plotting ------------------------------------------------------------
case("class-color-float", lambda: plotting.class_color(1.5), TypeError, "label")
case("class-color-range", lambda: plotting.class_color(12), ValueError, "label")
case("decision-boundary-scores", lambda: plotting.plot_decision_boundary(
    S.MLP([2, 3], seed=0).predict, X2, np.zeros(4)), ValueError, "predict", "predict_labels")
case("decision-boundary-X", lambda: plotting.plot_decision_boundary(
    lambda g: np.zeros(len(g)), np.ones((4, 3)), np.zeros(4)), ValueError, "X")
case("decision-boundary-y", lambda: plotting.plot_decision_boundary(
    lambda g: np.zeros(len(g)), X2, np.zeros(3)), ValueError, "y")
case("decision-boundary-callable", lambda: plotting.plot_decision_boundary(
    "model", X2, np.zeros(4)), TypeError, "predict")
case("decision-boundary-resolution", lambda: plotting.plot_decision_boundary(
    lambda g: np.zeros(len(g)), X2, np.zeros(4), resolution=1), ValueError, "resolution")
case("plot-history-type", lambda: plotting.plot_history([1, 2, 3]), TypeError, "history")
case("plot-history-key", lambda: plotting.plot_history({"loss": [1, 2]}, keys=["acc"]),
     KeyError, "acc")
case("plot-history-values", lambda: plotting.plot_history({"loss": "abc"}), TypeError,
     "history")
case("plot-history-empty", lambda: plotting.plot_history({"accuracy": [1, 2]}), ValueError,
     "keys")

# --- claims and utilities -------------------------------------------------
case("claim-statement", lambda: claims.claim("", True), TypeError, "statement")
case("claim-holds", lambda: claims.claim("x", "yes"), TypeError, "holds")
case("claim-less-none", lambda: claims.claim_less("x", None, 1.0), TypeError, "smaller")
case("claim-close-tolerance", lambda: claims.claim_close("x", 1.0, 1.0, atol=-1), ValueError,
     "atol")
case("claim-close-nan-tolerance", lambda: claims.claim_close("x", 1.0, 1.0, rtol=nan),
     ValueError, "rtol")
case("claim-between-order", lambda: claims.claim_between("x", 1.0, 2.0, 0.0), ValueError,
     "low")
case("claim-separated-short", lambda: claims.claim_separated("x", [1.0], [0.0, 0.1]),
     ValueError, "better")
case("mean-sd-str", lambda: claims.mean_sd("abc"), TypeError, "values")
case("accuracy-se-range", lambda: claims.accuracy_standard_error(1.5, 100), ValueError,
     "accuracy")
case("accuracy-se-n", lambda: claims.accuracy_standard_error(0.5, 0), ValueError, "n")
case("format-mean-sd-digits", lambda: claims.format_mean_sd([1.0, 2.0], digits=-1), ValueError,
     "digits")
case("seed-everything", lambda: utils.seed_everything(-1), ValueError, "seed")
case("seed-everything-str", lambda: utils.seed_everything("0"), ValueError, "seed")


# --- exercises: every check that takes the reader's function ------------------
import inspect  # noqa: E402

from nnbook import exercises  # noqa: E402

for _name in sorted(exercises.__all__):
    _fn = getattr(exercises, _name)
    if _name.startswith("check_") and list(inspect.signature(_fn).parameters)[:1] == ["fn"]:
        _extra = {"gate": "and"} if "gate" in inspect.signature(_fn).parameters else {}
        case(f"exercise-{_name}-not-callable",
             lambda _fn=_fn, _extra=_extra: _fn("not a function", **_extra), TypeError, "fn")
case("exercise-logic-gate-name", lambda: exercises.check_logic_gate(lambda X: X[:, 0], "xnorr"),
     ValueError, "gate")


# --- the PyTorch side: models, training, data --------------------------------
import torch  # noqa: E402
from nnbook import data, training  # noqa: E402
from nnbook import models as M  # noqa: E402


def loader(n=8, features=3, classes=3, y=None):
    X = np.random.default_rng(0).normal(size=(n, features)).astype(np.float32)
    return training.make_loader(X, np.arange(n) % classes if y is None else y, batch_size=4)


def net():
    return M.SimpleNN(3, [4], 3)


ce = torch.nn.CrossEntropyLoss()
case("simple-nn-input", lambda: M.SimpleNN(0, [4], 2), ValueError, "input_size")
case("simple-nn-hidden", lambda: M.SimpleNN(3, [0], 2), ValueError, "hidden_sizes")
case("simple-nn-hidden-int", lambda: M.SimpleNN(3, 4, 2), TypeError, "hidden_sizes")
case("simple-nn-output-float", lambda: M.SimpleNN(3, [4], 2.5), ValueError, "output_size")
case("simple-nn-forward", lambda: net()(torch.ones(2, 5)), ValueError, "x")
case("simple-nn-from-scratch", lambda: M.SimpleNN.from_scratch(S.MLP([3, 2])), ValueError,
     "mlp")
case("count-parameters", lambda: M.count_parameters("model"), TypeError, "model")
case("lenet-classes", lambda: M.LeNet5(num_classes=0), ValueError, "num_classes")
case("lenet-activation", lambda: M.LeNet5(activation="gelu2"), ValueError, "activation")
case("lenet-forward", lambda: M.LeNet5()(torch.ones(2, 1, 5, 5)), ValueError, "x")
case("smallcnn-channels", lambda: M.SmallCNN(in_channels=0), ValueError, "in_channels")
case("make-loader-lengths", lambda: training.make_loader(np.ones((4, 3)), np.ones(5)),
     ValueError, "X", "y")
case("make-loader-batch", lambda: training.make_loader(np.ones((4, 3)), np.ones(4),
                                                       batch_size=0), ValueError, "batch_size")
case("make-loader-batch-str", lambda: training.make_loader(np.ones((4, 3)), np.ones(4),
                                                           batch_size="8"), TypeError,
     "batch_size")
case("make-loader-empty", lambda: training.make_loader(np.ones((0, 3)), np.ones(0)),
     ValueError, "X")
case("make-loader-str", lambda: training.make_loader(np.array([["a"]]), np.ones(1)),
     TypeError, "X")
case("make-loader-nan", lambda: training.make_loader(np.full((2, 3), nan), np.ones(2)),
     ValueError, "X")
case("make-loader-seed", lambda: training.make_loader(np.ones((4, 3)), np.ones(4), seed=-1),
     ValueError, "seed")
case("fit-empty-loader", lambda: training.fit(net(), [], ce, torch.optim.SGD(
    net().parameters(), lr=0.1)), ValueError, "train_loader")
case("fit-epochs", lambda: (lambda m: training.fit(m, loader(), ce, torch.optim.SGD(
    m.parameters(), lr=0.1), epochs=0))(net()), ValueError, "epochs")
case("fit-epochs-float", lambda: (lambda m: training.fit(m, loader(), ce, torch.optim.SGD(
    m.parameters(), lr=0.1), epochs=1.5))(net()), TypeError, "epochs")
case("fit-foreign-optimizer", lambda: training.fit(net(), loader(), ce, torch.optim.SGD(
    net().parameters(), lr=0.1), print_every=0), ValueError, "optimizer")
case("fit-model-type", lambda: training.fit("model", loader(), ce, None), TypeError, "model")
case("fit-loss-fn", lambda: (lambda m: training.fit(m, loader(), "ce", torch.optim.SGD(
    m.parameters(), lr=0.1)))(net()), TypeError, "loss_fn")
case("fit-class-out-of-range", lambda: (lambda m: training.fit(
    m, loader(y=np.arange(8)), ce, torch.optim.SGD(m.parameters(), lr=0.1), print_every=0))(
    net()), ValueError, "targets", r"\[0, 2\]")
case("fit-print-every", lambda: (lambda m: training.fit(m, loader(), ce, torch.optim.SGD(
    m.parameters(), lr=0.1), print_every=-1))(net()), ValueError, "print_every")
case("fit-mse-broadcast", lambda: (lambda m: training.fit(
    m, loader(y=np.ones(8, dtype=np.float32)), torch.nn.MSELoss(),
    torch.optim.SGD(m.parameters(), lr=0.1), print_every=0))(M.SimpleNN(3, [4], 1)),
    ValueError, "targets", "reshape")
case("evaluate-mse-broadcast", lambda: training.evaluate(
    M.SimpleNN(3, [4], 1), loader(y=np.ones(8, dtype=np.float32)), torch.nn.MSELoss()),
    ValueError, "targets", "reshape")
case("evaluate-empty-loader", lambda: training.evaluate(net(), [], ce), ValueError, "loader")
case("predict-model", lambda: training.predict("model", np.ones((2, 3))), TypeError, "model")
case("predict-batch", lambda: training.predict(net(), np.ones((2, 3)), batch_size=0),
     ValueError, "batch_size")
case("load-mnist-missing-root", lambda: data.load_mnist("/typo/dir/nnbook-mnist",
                                                        download=False),
     FileNotFoundError, "root")
case("load-mnist-download", lambda: data.load_mnist(download="no"), TypeError, "download")
case("load-mnist-seed", lambda: data.load_mnist(seed=-1), ValueError, "seed")
case("load-mnist-root-type", lambda: data.load_mnist(root=3), TypeError, "root")


@pytest.mark.parametrize("fn, exc, names", CASES)
def test_bad_input_raises_a_clear_error(fn, exc, names):
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for name in names:
        assert re.search(name if "\\" in name or "(" in name else re.escape(name), message), (
            f"the {exc.__name__} message does not name {name!r}: {message!r}")


def test_the_table_is_large():
    assert len(CASES) >= 150
