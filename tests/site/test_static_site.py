"""Checks on the built HTML that need no browser: every page of the table of
contents is there, no output shows a traceback or a warning, every image and
internal link resolves, and every figure has a caption."""
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from .conftest import HTML, toc_docnames

PAGES = toc_docnames()
SITE_PREFIX = "/nnbook/"   # where GitHub Pages serves the site (notfound_urls_prefix)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("doc", PAGES)
def test_page_built_with_no_error_output(site, doc):
    page = site / f"{doc}.html"
    assert page.exists(), f"{doc} is in _toc.yml but {page} was not built"
    soup = _soup(page)
    article = soup.select_one("article") or soup
    for out in article.select("div.cell_output, div.output"):
        text = out.get_text()
        classes = " ".join(c for el in out.select("[class]") for c in el["class"])
        assert "Traceback" not in text, f"{doc}: an output shows a traceback"
        assert "stderr" not in classes, f"{doc}: an output shows stderr: {text[:200]}"
        assert "Warning:" not in text, f"{doc}: an output shows a warning: {text[:200]}"


@pytest.mark.parametrize("doc", PAGES)
def test_images_exist_and_figures_have_captions(site, doc):
    page = site / f"{doc}.html"
    soup = _soup(page)
    for img in soup.select("article img"):
        src = unquote(urlparse(img["src"]).path)
        if img["src"].startswith(("http:", "https:", "data:")):
            continue
        target = (page.parent / src).resolve()
        assert target.exists() and target.stat().st_size > 0, f"{doc}: missing image {src}"
        assert target.stat().st_size < 1_500_000, f"{doc}: {src} is over 1.5 MB"
        if "cell_output" in " ".join(" ".join(p.get("class", [])) for p in img.parents):
            figure = img.find_parent("figure")
            assert figure is not None and figure.find("figcaption"), \
                f"{doc}: a figure ({src}) has no caption; use glue:figure or a figure directive"


def test_internal_links_resolve(site):
    broken = []
    ids_cache: dict[Path, set[str]] = {}
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        for a in _soup(page).select("a[href]"):
            href = a["href"]
            url = urlparse(href)
            if url.scheme or href.startswith(("mailto:", "javascript:")):
                continue
            if url.path.startswith(SITE_PREFIX):      # absolute links (the 404 page)
                target = site / unquote(url.path[len(SITE_PREFIX):])
            elif url.path.startswith("/"):
                broken.append(f"{page.relative_to(site)} -> {href} (outside {SITE_PREFIX})")
                continue
            else:
                target = page if not url.path else (page.parent / unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
                continue
            if url.fragment and target.suffix == ".html":
                if target not in ids_cache:
                    ids_cache[target] = {el["id"] for el in _soup(target).select("[id]")}
                if unquote(url.fragment) not in ids_cache[target]:
                    broken.append(f"{page.relative_to(site)} -> {href} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:30])


def test_every_page_is_in_the_toc(site):
    built = {str(p.relative_to(HTML).with_suffix("")) for p in HTML.rglob("*.html")
             if p.parent == HTML or "chapters" in p.parts}
    extra = built - set(PAGES) - {"index", "genindex", "py-modindex", "search", "404"}
    assert not extra, f"pages built but not in _toc.yml: {sorted(extra)}"


def test_published_notebooks_for_colab(site, tmp_path):
    """The notebooks the Colab buttons open: one per executed page, valid
    nbformat 4, executed, with the Colab set-up cell first."""
    import importlib.util
    import json
    spec = importlib.util.spec_from_file_location("publish", HTML.parents[1] / ".ci" /
                                                  "publish_notebooks.py")
    publish = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(publish)
    written = publish.publish(HTML.parent / "jupyter_execute", tmp_path)
    executed = {str(p.relative_to(tmp_path / "book").with_suffix("")) for p in written}
    code_pages = [d for d in PAGES if "file_format: mystnb" in _front_matter(d)
                  or "kernelspec" in _front_matter(d)]
    assert set(code_pages) <= executed
    for path in written:
        nb = json.loads(path.read_text())
        assert nb["nbformat"] == 4 and "colab-setup" in nb["cells"][0]["metadata"]["tags"]
    for doc in code_pages:
        html = _soup(site / f"{doc}.html")
        colab = [a["href"] for a in html.select("a[href*='colab.research.google.com']")]
        prefix = "https://colab.research.google.com/github/nnbook/nnbook/blob/notebooks/"
        expected = [f"{prefix}book/{doc}.ipynb"]
        if doc.startswith("exercises/ch"):   # the page also offers its student notebook
            expected.append(f"{prefix}student/{doc.split('/')[-1]}.ipynb")
        assert colab == expected, colab


def _front_matter(doc: str) -> str:
    text = (HTML.parents[1] / "book" / f"{doc}.md").read_text()
    return text.split("---", 2)[1] if text.startswith("---") else ""


def test_no_hidden_warnings_in_executed_notebooks(site):
    """Outputs removed from the page (`remove-output`) still travel in the
    notebook readers download: none may hold a warning or an error."""
    import json
    problems = []
    for path in sorted((HTML.parent / "jupyter_execute").rglob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(notebook["cells"]):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" or output.get("name") == "stderr":
                    text = "".join(output.get("text", "")) or output.get("ename", "")
                    problems.append(f"{path.name} cell {index}: {text[:120]}")
    assert not problems, "\n".join(problems)


def test_build_log_is_quiet(site):
    """No wall of kernel warnings (or any other warning) in the build log."""
    log = site.parent / "build.log"
    if not log.exists():
        message = "no _build/build.log: build the site with `make book`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    noisy = [line for line in lines if "IPKernelApp" in line or "WARNING" in line
             or "Warning:" in line]
    assert not noisy, f"{len(noisy)} warning lines in the build log, e.g. {noisy[:3]}"
