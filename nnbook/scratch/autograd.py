"""A scalar reverse-mode automatic differentiation engine, micrograd-sized.

Every operation creates a :class:`Value` that remembers its inputs and a
``_backward`` closure applying the local chain rule:
``input.grad += d(output)/d(input) * output.grad``. :meth:`Value.backward`
visits the graph in reverse topological order, so each node's gradient is
complete before it is passed on. ``torch.autograd`` does the same with
tensors instead of scalars.
"""

from __future__ import annotations

import math
import numbers


class Value:
    """A scalar in a computational graph, with its gradient ``grad``."""

    __slots__ = ("data", "grad", "_backward", "_prev", "op", "label")

    def __init__(self, data, _children=(), op: str = "", label: str = ""):
        if isinstance(data, bool) or not isinstance(data, numbers.Real) or (
                type(data).__name__ == "bool_"):
            raise TypeError(f"data must be a real number (int or float), got "
                            f"{type(data).__name__} {data!r}")
        if not _children and not math.isfinite(data):
            raise ValueError(f"data must be a finite number, got {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self.op = op
        self.label = label

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"exponent must be an int or float constant, got {exponent!r}")
        if self.data == 0 and exponent < 0:
            raise ZeroDivisionError(f"division by zero: Value(0.0) ** {exponent}")
        out = Value(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        r"""``exp(self)``; backward: :math:`\partial e^x/\partial x = e^x`."""
        if self.data > 709.78:
            raise OverflowError(f"exp({self.data:g}) is larger than the largest float (about "
                                "1.8e308); the input is too large")
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        """``log(self)`` for a positive value; backward: :math:`1/x`."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        r"""``tanh(self)``; backward: :math:`1 - \tanh^2 x`."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        r"""``sigmoid(self)``, computed without overflow; backward: :math:`\sigma(1-\sigma)`."""
        x = self.data
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        """``max(0, self)``; backward: 1 where the input is positive, else 0."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        """Fill ``grad`` of every node that this value depends on."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:                      # iterative DFS: no recursion limit
            v, children_done = stack.pop()
            if children_done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((child, False) for child in v._prev)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    # Everything else is built from the operations above.
    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __rsub__(self, other):
        return self._wrap(other) + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = self._wrap(other)
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        return self * other ** -1

    def __rtruediv__(self, other):
        if self.data == 0:
            raise ZeroDivisionError(f"division by zero: {other!r} / {self!r}")
        return self._wrap(other) * self ** -1

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"
