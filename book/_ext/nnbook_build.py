"""Sphinx extension: re-execute every page when the ``nnbook`` package changes.

myst-nb's execution cache is keyed on the cells' source only, and Sphinx
re-reads a page only when its own file changes, so an edit to ``nnbook/``
would otherwise leave every page showing the old package's results. This
extension fingerprints the package's files; when the fingerprint differs
from the one recorded by the last successful build, it empties the
execution cache and marks every page as outdated.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

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
    app._nnbook_fingerprint = package_fingerprint()
    old = stamp.read_text().strip() if stamp.exists() else None
    if old == app._nnbook_fingerprint:
        return []
    cache = _cache_dir(app)
    if cache.exists():
        shutil.rmtree(cache)
    if old is not None or env.all_docs:
        print("nnbook changed since the last build: re-executing every page")
    return sorted(env.found_docs)


def _record(app, exception):
    fingerprint = getattr(app, "_nnbook_fingerprint", None)
    # Only a clean build vouches for the cache: after a failure or a warning
    # the next build checks (and, if needed, clears) it again.
    if exception is None and fingerprint and getattr(app, "_warncount", 0) == 0:
        cache = _cache_dir(app)
        cache.mkdir(parents=True, exist_ok=True)
        (cache / STAMP).write_text(fingerprint + "\n")


def setup(app):
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _record)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
