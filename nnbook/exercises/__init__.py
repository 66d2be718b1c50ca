"""Checks for the exercise book: run the reader's function against the package.

Every ``check_*`` function takes the reader's function, calls it on several
inputs (edge cases, inputs that test the property the exercise is about, and
a few seeded random ones) and compares the result with ``nnbook``'s
reference implementation. On success it prints a one-line confirmation and
returns ``None``. On failure it raises :class:`ExerciseError` (a subclass of
``AssertionError``) whose message names the input that failed, what was
expected, what came back, the largest difference and where it is, and, when
the answer matches a common mistake, a hint about that mistake. The failing
input is kept in :func:`last_failure`::

    >>> from nnbook.exercises import check_sigmoid_derivative
    >>> check_sigmoid_derivative(lambda z: 1 / (1 + np.exp(-z)))
    Traceback (most recent call last):
    ...
    ExerciseError: check_sigmoid_derivative: wrong answer for input z = ...
      Hint: your function returns sigma(z) itself, not its derivative ...

Answers may be NumPy arrays of any float dtype (float32 is compared within
float32 precision), Python numbers or lists, or torch tensors. The checks
never import PyTorch themselves.

One module per chapter (``nnbook.exercises.ch04`` holds chapter 4's checks);
the shared machinery is in ``nnbook.exercises._checking``. Every check is
importable from ``nnbook.exercises`` directly.
"""

from ._checking import ExerciseError, last_failure
from .ch01 import *  # noqa: F401,F403
from .ch02 import *  # noqa: F401,F403
from .ch03 import *  # noqa: F401,F403
from .ch04 import *  # noqa: F401,F403
from .ch05 import *  # noqa: F401,F403
from .ch06 import *  # noqa: F401,F403
from .ch07 import *  # noqa: F401,F403
from .ch08 import *  # noqa: F401,F403
from .ch09 import *  # noqa: F401,F403
from .ch10 import *  # noqa: F401,F403
from .ch11 import *  # noqa: F401,F403
from .ch12 import *  # noqa: F401,F403
from . import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12

__all__ = ["ExerciseError", "last_failure"] + [
    name for module in (ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12)
    for name in module.__all__]
