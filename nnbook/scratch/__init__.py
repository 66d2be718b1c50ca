"""From-scratch neural networks in NumPy.

Importing this package never imports PyTorch: everything here is plain
NumPy, written to be read next to the book's equations.
"""

from .activations import (
    leaky_relu, leaky_relu_derivative, relu, relu_derivative, sigmoid,
    sigmoid_derivative, softmax, softmax_backward, softmax_jacobian, tanh,
    tanh_derivative,
)
from .attention import (MultiHeadAttention, scaled_dot_product_attention,
                        scaled_dot_product_attention_backward, sinusoidal_positional_encoding)
from .autograd import Value
from .blocks import TopKMoE, grouped_query_attention, rotary_embedding
from .conv import AvgPool2D, Conv2D, Flatten, MaxPool2D, col2im, conv_output_size, im2col
from .gradcheck import check_gradients, numerical_gradient, relative_error
from .layers import Activation, Dense, Dropout, Layer, Parameter, init_weights
from .losses import (
    binary_cross_entropy, binary_cross_entropy_grad,
    binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad,
    log_softmax, mse, mse_grad, softmax_cross_entropy, softmax_cross_entropy_grad,
)
from .mlp import MLP, Sequential
from .network import NeuralNetworkFromScratch
from .normalization import BatchNorm, BatchNorm2d, LayerNorm, RMSNorm
from .optim import SGD, Adam, Momentum, Optimizer, RMSprop
from .perceptron import Perceptron
from .rnn import GRU, LSTM, RNN, LastHidden, clip_grad_norm, global_grad_norm
from .schedules import Scheduled, constant, cosine_decay, step_decay, with_warmup
from .transformer import TransformerBlock, causal_mask

__all__ = [
    "BatchNorm", "BatchNorm2d", "LayerNorm", "RMSNorm", "TopKMoE", "TransformerBlock",
    "causal_mask", "grouped_query_attention", "rotary_embedding", "Scheduled", "constant",
    "cosine_decay", "step_decay", "with_warmup",
    "MultiHeadAttention", "scaled_dot_product_attention",
    "scaled_dot_product_attention_backward", "sinusoidal_positional_encoding",
    "AvgPool2D", "Conv2D", "Flatten", "MaxPool2D", "col2im", "conv_output_size", "im2col",
    "GRU", "LSTM", "LastHidden", "RNN", "clip_grad_norm", "global_grad_norm",
    "Activation", "Adam", "Dense", "Dropout", "Layer", "MLP", "Momentum",
    "NeuralNetworkFromScratch", "Optimizer", "Parameter", "Perceptron", "RMSprop", "Sequential",
    "SGD", "Value", "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "check_gradients", "init_weights", "leaky_relu", "leaky_relu_derivative",
    "log_softmax", "mse", "mse_grad", "numerical_gradient", "relative_error", "relu",
    "relu_derivative", "sigmoid", "sigmoid_derivative", "softmax", "softmax_backward",
    "softmax_cross_entropy", "softmax_cross_entropy_grad", "softmax_jacobian", "tanh",
    "tanh_derivative",
]
