"""Sphinx extension for the API reference (book/reference/api.md).

Module constants (``CLASS_COLORS``, ``RUNGS``, ...) are documented by ``#:``
comments written as prose ("One colour per class, the same in every chapter:
..."); napoleon would read the text before the first colon as a type (and
the nitpicky build would look for a class of that name). So the docstrings
of data are kept as written: saved before napoleon runs, put back after.

References to the names that packages re-export (``nnbook.scratch.Dense``
for ``nnbook.scratch.layers.Dense``, ``nnbook.models.SimpleNN``) resolve to
the object's own entry.
"""

from __future__ import annotations

import importlib

_REEXPORTING = ("nnbook.scratch", "nnbook.models", "nnbook.exercises")

_ORIGINAL: dict[str, list[str]] = {}


def _save(app, what, name, obj, options, lines):
    if what in ("data", "attribute"):
        _ORIGINAL[name] = list(lines)


def _restore(app, what, name, obj, options, lines):
    if what in ("data", "attribute") and name in _ORIGINAL:
        lines[:] = _ORIGINAL.pop(name)


def _resolve_reexport(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    module, _, name = target.rpartition(".")
    if module not in _REEXPORTING:
        return None
    try:
        obj = getattr(importlib.import_module(module), name)
        real = f"{obj.__module__}.{obj.__qualname__}"
    except (ImportError, AttributeError):
        return None
    if real == target:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder,
                                             node["reftype"], real, node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_reexport)
    # napoleon's handler has the default priority, 500
    app.connect("autodoc-process-docstring", _save, priority=400)
    app.connect("autodoc-process-docstring", _restore, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
