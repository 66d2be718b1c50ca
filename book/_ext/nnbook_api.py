"""Sphinx extension for the API reference (book/reference/api.md).

Module constants (``CLASS_COLORS``, ``RUNGS``, ...) are documented by ``#:``
comments written as prose ("One colour per class, the same in every chapter:
..."); napoleon would read the text before the first colon as a type (and
the nitpicky build would look for a class of that name). So the docstrings
of data are kept as written: saved before napoleon runs, put back after.

The ``nnbook-other-modules`` directive documents every public module of the
package that the page does not document with its own ``automodule`` (a
module added later), under a heading of its own; it writes nothing when
there is none.

References to the names that packages re-export (``nnbook.scratch.Dense``
for ``nnbook.scratch.layers.Dense``, ``nnbook.models.SimpleNN``) resolve to
the object's own entry.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

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


def public_modules() -> list[str]:
    """Every public module of nnbook (no part of its name starts with ``_``)."""
    import nnbook
    names = [m.name for m in pkgutil.walk_packages(nnbook.__path__, "nnbook.")]
    return [n for n in names if not any(p.startswith("_") for p in n.split(".")[1:])]


def documented_modules(page_text: str) -> set[str]:
    return {line.split("::", 1)[1].strip() for line in page_text.splitlines()
            if line.strip().startswith(".. automodule::")}


def other_modules(page_text: str) -> list[str]:
    """The public modules that the page does not document itself."""
    done = documented_modules(page_text)
    return [name for name in public_modules() if name not in done]


class OtherModules(Directive):
    """Document every public module that the page does not list (see above)."""

    def run(self):
        env = self.state.document.settings.env
        page = Path(env.doc2path(env.docname)).read_text(encoding="utf-8")
        names = other_modules(page)
        if not names:
            return []
        lines = ["Other modules", "-------------", ""]
        for name in names:
            lines += [f"``{name}``", "^" * (len(name) + 4), "", f".. automodule:: {name}",
                      "   :members:", ""]
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=env.docname), node)
        return node.children


def setup(app):
    app.add_directive("nnbook-other-modules", OtherModules)
    app.connect("missing-reference", _resolve_reexport)
    # napoleon's handler has the default priority, 500
    app.connect("autodoc-process-docstring", _save, priority=400)
    app.connect("autodoc-process-docstring", _restore, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
