"""Code that the book shows fits the page: no line over 100 characters.

At a 1280 px window the book's code column shows 100 characters
(book/_static/nnbook.css); tests/site/test_browser.py checks the rendered
pages in Chromium, and this test finds the same problem without a build, in
every code cell and in every package module a chapter can literalinclude.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 100


def _long_lines(lines, start=1):
    return [(n, line) for n, line in enumerate(lines, start) if len(line.rstrip()) > LIMIT]


MODULES = sorted((ROOT / "nnbook").rglob("*.py"))
PAGES = sorted(p for p in (ROOT / "book").rglob("*.md") if "_build" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_package_lines_fit_the_page(path):
    long = _long_lines(path.read_text(encoding="utf-8").splitlines())
    assert not long, "\n".join(f"{path.relative_to(ROOT)}:{n}: {len(l)} characters"
                               for n, l in long)


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_code_cells_fit_the_page(path):
    text = path.read_text(encoding="utf-8")
    long = []
    for match in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S):
        first = text[:match.start(1)].count("\n") + 1
        long += _long_lines(match.group(1).splitlines(), first)
    assert not long, "\n".join(f"{path.relative_to(ROOT)}:{n}: {len(l)} characters"
                               for n, l in long)
