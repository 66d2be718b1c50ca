"""A real English text that is available offline, for character-level models.

The book trains its language model on *Flatland: A Romance of Many
Dimensions* by Edwin A. Abbott (1884), a public-domain book (Project
Gutenberg EBook #97). The text ships inside the small PyPI package
``pycounts-tb`` (a teaching package of the *Python Packages* book, MIT
licensed, installed with the book's requirements), so nothing is downloaded
when a page runs.
"""

from __future__ import annotations

import re
from importlib import resources

#: Where each text comes from; every one of them is in the public domain.
SOURCES = {
    "flatland": {
        "title": "Flatland: A Romance of Many Dimensions",
        "author": "Edwin A. Abbott",
        "year": 1884,
        "gutenberg_id": 97,
        "package": "pycounts-tb",
        "resource": ("pycounts_tb.data", "flatland.txt"),
    },
}

_START = re.compile(r"\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG EBOOK[^\n]*\*\*\*")
_END = re.compile(r"(\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG EBOOK|End of (the )?Project "
                  r"Gutenberg'?s? (EBook|Etext))", re.IGNORECASE)


def strip_gutenberg_boilerplate(text: str) -> str:
    """The body of a Project Gutenberg e-book: what lies between its
    ``*** START OF ...`` and ``*** END OF ...`` lines (or the whole text if
    those lines are missing), with Windows line endings normalised and
    surrounding blank lines removed."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    start = _START.search(text)
    if start:
        text = text[start.end():]
    end = _END.search(text)
    if end:
        text = text[:end.start()]
    return text.strip("\n ") + "\n"


def load_text(name: str = "flatland", *, strip_boilerplate: bool = True,
              collapse_blank_lines: bool = True) -> str:
    """Return the full text of a bundled public-domain book.

    ``strip_boilerplate`` removes Project Gutenberg's header and licence
    footer (keep them only to look at them); ``collapse_blank_lines`` turns
    runs of blank lines into a single blank line, so that a character model
    does not spend its capacity on layout.
    """
    if name not in SOURCES:
        raise ValueError(f"name must be one of {sorted(SOURCES)}, got {name!r}")
    package, filename = SOURCES[name]["resource"]
    try:
        raw = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            f"the text {name!r} ships with the package {SOURCES[name]['package']!r}: "
            f'install it with `pip install "nnbook[data]"` (or `pip install '
            f"{SOURCES[name]['package']}`)") from None
    text = strip_gutenberg_boilerplate(raw) if strip_boilerplate else raw
    if collapse_blank_lines:
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text


def train_val_split(text: str, val_fraction: float = 0.1):
    """Split ``text`` into a training part and a validation part (the last
    ``val_fraction`` of it): contiguous pieces, so that no validation
    sentence was seen, in part, during training."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    cut = int(round(len(text) * (1 - val_fraction)))
    if cut == 0 or cut == len(text):
        raise ValueError(f"text of {len(text)} characters is too short to split "
                         f"with val_fraction={val_fraction}")
    return text[:cut], text[cut:]


def train_val_test_split(text: str, val_fraction: float = 0.1, test_fraction: float = 0.1):
    """Split ``text`` into three contiguous parts, in reading order: training,
    validation (for choices such as an n-gram's order or when to stop
    training) and test (used once, for the numbers a page reports)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be below 1, got "
                         f"{val_fraction} + {test_fraction}")
    n = len(text)
    cut_val = int(round(n * (1 - val_fraction - test_fraction)))
    cut_test = int(round(n * (1 - test_fraction)))
    if not 0 < cut_val < cut_test < n:
        raise ValueError(f"text of {n} characters is too short to split three ways")
    return text[:cut_val], text[cut_val:cut_test], text[cut_test:]
