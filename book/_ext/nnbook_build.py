"""Sphinx extension for the book's build.

1. Re-execute every page when the ``nnbook`` package changes.
2. Serve MathJax from the site itself, so that math renders offline and
   without a third-party CDN.
3. Execute the pages that need it in parallel, one kernel per core, before
   Sphinx reads them one by one (they then come from the cache).
4. Offer the *executed* notebook for download: in cache mode myst-nb writes
   the notebook without its outputs; the executed one comes from the cache.
5. Keep the kernels' start-up warnings out of the build log.
6. Write the student edition of the exercise pages (student_edition.py) and
   each chapter's list of its exercises (exercise_lists.py).
7. Point the Colab launch button at the executed notebook (``.ipynb``)
   published on the ``notebooks`` branch, since Colab cannot open ``.md``.

myst-nb's execution cache is keyed on the cells' source only, and Sphinx
re-reads a page only when its own file changes, so an edit to ``nnbook/``
would otherwise leave every page showing the old package's results. This
extension fingerprints the package's files; when the fingerprint differs
from the one stored beside the cache, it empties the execution cache and
marks every page as outdated.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

# One thread per kernel: pages execute side by side on the cores, and a page
# prints the same numbers whether it ran alone or beside another (the number
# of BLAS threads changes the order of floating-point sums).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

STAMP = "nnbook-fingerprint.txt"


def package_fingerprint() -> str:
    import nnbook

    root = Path(nnbook.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_dir(app) -> Path:
    return Path(app.env.mystnb_config.execution_cache_path)


def _outdated(app, env, added, changed, removed):
    stamp = _cache_dir(app) / STAMP
    fingerprint = package_fingerprint()
    old = stamp.read_text().strip() if stamp.exists() else None
    if old == fingerprint:
        return []
    if old is not None or env.all_docs:
        print("nnbook changed since the last build: re-executing every page")
    cache = _cache_dir(app)
    if cache.exists():
        shutil.rmtree(cache)
    # Should this build stop half-way, the next one must still re-read every
    # page: without the saved environment, Sphinx reads them all again.
    (Path(app.doctreedir) / "environment.pickle").unlink(missing_ok=True)
    cache.mkdir(parents=True)
    stamp.write_text(fingerprint + "\n")
    return sorted(env.found_docs)


# -- MathJax, served locally ---------------------------------------------------
# MathJax 3 comes from the `django-static-mathjax` wheel (pinned in
# requirements.txt; it is only a folder of static files). Only what the pages
# load is copied: the combined TeX/MathML component, its fonts, and the TeX
# extensions and UI pieces it may load lazily.
MATHJAX_FILES = ["tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions",
                 "ui", "a11y"]


def _mathjax_source() -> Path | None:
    try:
        import mathjax
    except ImportError:
        return None
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    return es5 if (es5 / MATHJAX_FILES[0]).exists() else None


def _use_local_mathjax(app, config):
    if _mathjax_source() is not None:
        config.mathjax_path = "mathjax/" + MATHJAX_FILES[0]


BOOK_DIR = Path(__file__).resolve().parents[1]


def _absolute_static_paths(app, config):
    """_config.yml gives the logo relative to book/; make it absolute so that a
    single-page build (whose source folder is the page's own) finds it too."""
    for name in ("html_logo", "html_favicon"):
        value = getattr(config, name, None)
        if value and "://" not in value and not Path(value).is_absolute():
            setattr(config, name, str(BOOK_DIR / value))


def _copy_mathjax(app, exception):
    source = _mathjax_source()
    if exception is not None or source is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        src, dst = source / name, target / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


# -- Parallel execution ---------------------------------------------------------
def _is_notebook(path: Path) -> bool:
    text = path.read_text(encoding="utf-8") if path.suffix == ".md" else ""
    return text.startswith("---") and "kernelspec" in text.split("---", 2)[1]


def _execute_in_parallel(app, env, docnames):
    """Run every outdated notebook page through jupyter-cache's parallel
    executor. Pages that fail are left uncached, so that myst-nb executes them
    again and reports the page and cell that failed."""
    config = env.mystnb_config
    if config.execution_mode != "cache" or len(docnames) < 2:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor
    from myst_nb.core.read import myst_nb_reader_plugin

    cache = get_cache(config.execution_cache_path)
    pending = []
    for doc in docnames:
        path = Path(env.doc2path(doc))
        if not _is_notebook(path):
            continue
        try:
            cache.match_cache_notebook(myst_nb_reader_plugin(str(path)))
        except KeyError:
            pending.append(cache.add_nb_to_project(
                str(path), read_data={"type": "plugin", "name": "myst_nb_md"}))
    if len(pending) < 2:
        return
    workers = min(len(pending), os.cpu_count() or 1)
    print(f"nnbook: executing {len(pending)} pages in parallel on {workers} processes")
    start = time.perf_counter()
    executor = load_executor("local-parallel", cache)
    result = executor.run_and_cache(filter_pks=[r.pk for r in pending],
                                    timeout=config.execution_timeout,
                                    allow_errors=config.execution_allow_errors)
    print(f"nnbook: {len(result.succeeded)} pages executed in "
          f"{time.perf_counter() - start:.1f}s; "
          f"{len(result.excepted) + len(result.errored)} failed (re-run below to report)")


# -- Executed notebooks for download -------------------------------------------
def _write_executed_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.read import myst_nb_reader_plugin

    cache = get_cache(app.env.mystnb_config.execution_cache_path)
    execute_dir = Path(app.outdir).parent / "jupyter_execute"
    for doc in sorted(app.env.found_docs):
        path = Path(app.env.doc2path(doc))
        if not _is_notebook(path):
            continue
        try:
            _, executed = cache.merge_match_into_notebook(myst_nb_reader_plugin(str(path)))
        except KeyError:
            continue        # not executed (a failed build): nothing to offer
        content = nbformat.writes(executed)
        for target in (execute_dir / f"{doc}.ipynb", Path(app.outdir) / "_sources" / f"{doc}.ipynb"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")


# -- Colab button -------------------------------------------------------------
NOTEBOOKS_BRANCH = "notebooks"


def _colab_to_ipynb(app, pagename, templatename, context, doctree):
    """Rewrite ``.../blob/<branch>/book/<page>.md`` to
    ``.../blob/notebooks/book/<page>.ipynb`` in the Colab launch button."""
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if group.get("label") == "launch-buttons" else []:
            url = button.get("url", "")
            if "colab.research.google.com" in url and url.endswith(".md"):
                head, _, path = url.partition("/blob/")
                _branch, _, rel = path.partition("/")
                button["url"] = f"{head}/blob/{NOTEBOOKS_BRANCH}/{rel[:-3]}.ipynb"


def _no_404_in_single_page_builds(app):
    """`jupyter-book build book/chapters/x.md` has no table of contents, and
    the 404 page's sidebar needs one: leave the 404 page to full builds."""
    if "sphinx_external_toc" in app.extensions:
        return
    for listener in list(app.events.listeners.get("html-collect-pages", [])):
        if getattr(listener.handler, "__module__", "").startswith("notfound"):
            app.disconnect(listener.id)


def _no_thebe(app):
    """The book has no live-code (Thebe) buttons; sphinx-thebe's scripts would
    only declare THEBE_JS_URL twice and log a console error on every page."""
    for listener in list(app.events.listeners.get("env-before-read-docs", [])):
        if getattr(listener.handler, "__name__", "") == "init_thebe_core":
            app.disconnect(listener.id)


def _quiet_kernels(app):
    """Keep the kernels' start-up chatter out of the build log.

    ipykernel logs a warning at every kernel start ("Kernel is running over TCP
    without encryption"): harmless on one machine, and a wall of identical
    lines in a build of thirty pages that hides the warnings that matter. The
    kernels read ``ipython_kernel_config.py`` from their IPython profile; the
    build gives them a profile of its own, under the build folder, that logs
    errors only. Output of the cells themselves (stderr included) is unchanged.
    """
    profile = Path(app.doctreedir).parent / ".ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(
        "# Written by book/_ext/nnbook_build.py: kernels log errors only.\n"
        'c.IPKernelApp.log_level = "ERROR"\n')
    os.environ["IPYTHONDIR"] = str(profile.parent)


def _student_edition(app, config):
    """Write the student notebooks (book/exercises/_student/chNN.ipynb) before the
    pages are read: the exercise pages offer them with the ``{download}`` role."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from exercise_lists import write_exercise_lists
        from student_edition import EXERCISES, write_student_notebooks
    finally:
        sys.path.pop(0)
    write_student_notebooks(EXERCISES / "_student")
    write_exercise_lists()


def setup(app):
    _quiet_kernels(app)
    app.connect("config-inited", _student_edition)
    app.connect("builder-inited", _no_thebe)
    app.connect("builder-inited", _no_404_in_single_page_builds)
    app.connect("env-before-read-docs", _execute_in_parallel)
    app.connect("html-page-context", _colab_to_ipynb, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("config-inited", _use_local_mathjax)
    app.connect("config-inited", _absolute_static_paths)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _write_executed_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
