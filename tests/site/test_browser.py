"""The built site, opened in a real browser (Chromium through Playwright), the
way readers use it.

The site is served over HTTP on 127.0.0.1 under the prefix it has on GitHub
Pages (``/nnbook/``). Without Chromium these tests skip with a message saying
how to install it, except in CI (``CI=true``), where they fail.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import pytest

from .conftest import ROOT, toc_docnames

PREFIX = "/nnbook/"
PAGES = toc_docnames()
# The pages a reader studies: every page but the landing page and the reference pages.
CONTENT = [d for d in PAGES if d != "intro" and not d.startswith("reference/")]
# The pages that run code, and so offer their executed notebook for download (a chapter's
# list of exercises, say, has no code).
NOTEBOOKS = [d for d in CONTENT if "```{code-cell}" in (ROOT / "book" / f"{d}.md").read_text()]
CHROMIUM = os.environ.get("NNBOOK_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "_build" / "screenshots"


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site under PREFIX, as GitHub Pages does; quiet."""

    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith(PREFIX):
            return str(Path(self.directory) / "__outside_prefix__")
        return super().translate_path("/" + path[len(PREFIX):])

    def send_error(self, code, message=None, explain=None):
        if code == 404 and (Path(self.directory) / "404.html").exists():
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site):
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = (f"Chromium not found at {CHROMIUM}: install it with "
                   "`sudo apt-get install chromium` (Debian/Ubuntu) or point "
                   "NNBOOK_CHROMIUM at a Chromium binary")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser):
    """One browser tab for the whole module: every page is visited once."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _open(page, url):
    page.errors.clear()
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    page.wait_for_load_state("networkidle")
    return response


# What one visit of a page reads: light mode first, then dark mode.
_READ_LIGHT = r"""() => {
  const article = document.querySelector('article') || document.body;
  // Code the reader may read: cell sources (hidden solutions opened too) and
  // literalinclude blocks; printed outputs are not code.
  article.querySelectorAll('details').forEach(d => { d.open = true; });
  const code = [...article.querySelectorAll('div.cell_input pre, div.highlight pre')]
    .filter(e => !e.closest('.cell_output'))
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => ({line: e.innerText.split('\n').reduce((a, b) => a.length >= b.length ? a : b, ''),
                over: e.scrollWidth - e.clientWidth}));
  return {
    title: (article.querySelector('h1') || {innerText: ''}).innerText.replace(/[#\u00b6\s]+$/, ''),
    untypeset: [...article.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length,
    broken_images: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    outputs: [...document.querySelectorAll('.cell_output')].map(e => e.innerText),
    clipped_code: code,
    ipynb: (document.querySelector("a[href$='.ipynb'][href*='_sources']") || {href: null}).href,
  };
}"""


def _visit(page, url) -> dict:
    _open(page, url)
    if page.locator("article .math").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                               " && document.querySelectorAll('mjx-container').length > 0",
                               timeout=15000)
    seen = page.evaluate(_READ_LIGHT)
    seen["errors"] = list(page.errors)
    if seen["ipynb"]:
        response = page.request.get(seen["ipynb"])
        seen["ipynb_status"] = response.status
        seen["notebook"] = json.loads(response.body()) if response.ok else None
    page.evaluate("() => { document.documentElement.dataset.theme = 'dark';"
                  " document.documentElement.dataset.mode = 'dark'; }")
    page.wait_for_timeout(100)
    seen["dark_background"] = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    seen["figures"] = _figure_pixels(page)
    return seen


@pytest.fixture(scope="module")
def visits(page, base_url):
    """Each page of the book, visited once; the tests below read what was seen."""
    seen = {}
    for doc in PAGES:
        try:
            seen[doc] = _visit(page, urljoin(base_url, f"{doc}.html"))
        except Exception as error:  # reported by the tests of that page
            seen[doc] = {"visit_error": f"{type(error).__name__}: {error}"}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "last-page-dark.png"))
    return seen


def _seen(visits, doc) -> dict:
    seen = visits[doc]
    assert "visit_error" not in seen, f"{doc}: {seen.get('visit_error')}"
    return seen


@pytest.mark.parametrize("doc", PAGES)
def test_page_loads_cleanly(visits, doc):
    seen = _seen(visits, doc)
    assert seen["untypeset"] == 0, f"{doc}: {seen['untypeset']} formulas were not typeset"
    assert not seen["broken_images"], f"{doc}: images that did not load: {seen['broken_images']}"
    for text in seen["outputs"]:
        assert "Traceback" not in text and "Warning:" not in text, f"{doc}: {text[:300]}"
    assert not seen["errors"], f"{doc}: console errors: {seen['errors']}"


@pytest.mark.parametrize("doc", PAGES)
def test_no_code_line_is_clipped(visits, doc):
    """At a 1280 px viewport no code block scrolls sideways: every line is visible."""
    clipped = _seen(visits, doc)["clipped_code"]
    assert not clipped, (f"{doc}: {len(clipped)} code block(s) scroll horizontally; "
                         f"longest line: {clipped[0]['line']!r} ({clipped[0]['over']} px over)")


@pytest.fixture(scope="module")
def search(page, base_url):
    """The site's own search (Sphinx's searchtools.js), run in the browser on one
    visit of search.html: returns the documents a query finds."""
    _open(page, base_url + "search.html")
    page.wait_for_function("() => typeof Search !== 'undefined' && Search.hasIndex()",
                           timeout=15000)

    def run(word: str) -> list[str]:
        return page.evaluate("""(word) => {
          const [q, terms, excluded, highlight, objects] = Search._parseQuery(word);
          return Search._performSearch(q, terms, excluded, highlight, objects).map(r => r[0]);
        }""", word)
    return run


@pytest.mark.parametrize("doc", CONTENT)
def test_search_finds_the_chapter(visits, search, doc):
    words = [w.strip(":,.()") for w in _seen(visits, doc)["title"].split()]
    word = max(words, key=len)
    hits = search(word)
    assert doc in hits, f"searching '{word}' did not return {doc}: {hits[:10]}"


@pytest.mark.parametrize("doc", NOTEBOOKS or ["intro"])
def test_notebook_download_is_a_valid_ipynb(visits, doc):
    seen = _seen(visits, doc)
    assert seen["ipynb"], f"{doc}: no .ipynb download link"
    assert seen["ipynb_status"] == 200, f"{seen['ipynb']}: HTTP {seen['ipynb_status']}"
    notebook = seen["notebook"]
    assert notebook["nbformat"] == 4
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all("outputs" in c for c in code)
    assert any(c["outputs"] for c in code), f"{doc}: the notebook was not executed"


def _figure_pixels(page):
    """For every figure image: the alpha and brightness of its four corners
    (the figure's background), read back through a canvas."""
    return page.evaluate("""() => [...document.querySelectorAll('article img')]
      .filter(i => i.naturalWidth > 0 && new URL(i.src).origin === location.origin)
      .map(i => {
        const c = document.createElement('canvas');
        c.width = i.naturalWidth; c.height = i.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(i, 0, 0);
        const corners = [[0, 0], [c.width - 1, 0], [0, c.height - 1], [c.width - 1, c.height - 1]]
          .map(([x, y]) => g.getImageData(x, y, 1, 1).data);
        return {src: i.src,
                alpha: Math.min(...corners.map(d => d[3])),
                light: Math.min(...corners.map(d => (d[0] + d[1] + d[2]) / 3)),
                filter: getComputedStyle(i).filter, opacity: getComputedStyle(i).opacity};
      })""")


@pytest.mark.parametrize("doc", CONTENT or ["intro"])
def test_dark_mode_keeps_figures_readable(visits, doc):
    seen = _seen(visits, doc)
    assert seen["dark_background"] != "rgb(255, 255, 255)", "dark mode did not apply"
    for fig in seen["figures"]:
        # An opaque, light figure stays legible on a dark page; a transparent
        # one would put black axis labels on a near-black background.
        assert fig["alpha"] == 255, f"{fig['src']} has a transparent background"
        assert fig["light"] > 200, f"{fig['src']} has a dark background"
        assert "invert" not in fig["filter"] and float(fig["opacity"]) > 0.9, fig


def test_screenshots_light(page, base_url):
    """Screenshots for a human to look at (in _build/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _open(page, base_url + "intro.html")
    page.screenshot(path=str(SCREENSHOTS / "landing-light.png"))
    chapters = [d for d in PAGES if d.startswith("chapters/")]
    if chapters:
        _open(page, urljoin(base_url, f"{chapters[min(2, len(chapters) - 1)]}.html"))
        page.screenshot(path=str(SCREENSHOTS / "chapter-light.png"))
    assert not page.errors, page.errors


def test_404_page(page, base_url):
    page.errors.clear()
    response = page.goto(base_url + "no-such-page.html")
    assert response.status == 404
    assert "Page not found" in page.content()
    page.wait_for_load_state("networkidle")
    broken = page.evaluate("() => [...document.images].filter(i => !(i.complete && "
                           "i.naturalWidth > 0)).map(i => i.src)")
    assert not broken
    assert page.locator("a[href='/nnbook/intro.html']").count()
