"""Every public module, class, function, method and property has a docstring
(the API reference in book/reference/api.md is generated from them)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import nnbook


def public_modules():
    names = ["nnbook"] + [m.name for m in pkgutil.walk_packages(nnbook.__path__, "nnbook.")]
    return [n for n in names if not any(p.startswith("_") for p in n.split(".")[1:])]


def undocumented() -> list[str]:
    missing = []
    for name in public_modules():
        module = importlib.import_module(name)
        if not (module.__doc__ or "").strip():
            missing.append(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not inspect.getdoc(obj):
                missing.append(f"{name}.{attr}")
            if not inspect.isclass(obj):
                continue
            for member, value in vars(obj).items():
                if member.startswith("_"):
                    continue
                function = value.fget if isinstance(value, property) else getattr(
                    value, "__func__", value)
                if not (inspect.isfunction(function) or isinstance(value, property)):
                    continue
                # an override may inherit its base class's docstring (like Layer.forward)
                if not inspect.getdoc(getattr(obj, member)):
                    missing.append(f"{name}.{attr}.{member}")
    return missing


def test_every_public_callable_has_a_docstring():
    missing = undocumented()
    assert not missing, f"{len(missing)} public callables without a docstring: {missing}"


def test_the_check_finds_a_missing_docstring(monkeypatch):
    from nnbook.scratch import layers
    monkeypatch.setattr(layers.Dense.forward, "__doc__", None)
    monkeypatch.setattr(layers.Layer.forward, "__doc__", None)
    assert "nnbook.scratch.layers.Dense.forward" in undocumented()


def test_every_public_module_is_in_the_api_reference():
    """The page lists most modules itself; its nnbook-other-modules directive
    (book/_ext/nnbook_api.py) documents the rest, so none is left out."""
    import sys
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "book" / "_ext"))
    try:
        import nnbook_api
    finally:
        sys.path.remove(str(root / "book" / "_ext"))
    page = (root / "book" / "reference" / "api.md").read_text()
    assert ".. nnbook-other-modules::" in page
    covered = nnbook_api.documented_modules(page) | set(nnbook_api.other_modules(page))
    assert set(public_modules()) - {"nnbook"} <= covered
    assert "nnbook.scratch.layers" in nnbook_api.documented_modules(page)
    assert "nnbook.scratch.layers" not in nnbook_api.other_modules(page)
