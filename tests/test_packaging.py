"""The wheel, installed in clean virtual environments with only its declared
dependencies: NumPy alone for ``pip install nnbook``, plus each extra.

Nothing is downloaded: the declared distributions (and what they require,
recursively) are taken from this environment and linked into the new one,
so that exactly the declared dependencies are importable there and
everything else (torch without ``[torch]``, matplotlib without ``[plot]``) is
not. Takes about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.packaging


def clean_env() -> dict:
    """This environment without PYTHONPATH (which could make pip or Python see
    the checkout's own nnbook instead of the wheel's)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(out), str(ROOT)], check=True, cwd=ROOT,
                   env=clean_env())
    (path,) = out.glob("nnbook-*.whl")
    return path


def wheel_metadata(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode()
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Requires-Dist:")]


def closure(requirements: list[str], extras: set[str]) -> set[str]:
    """The distributions (canonical names) that ``requirements`` need with
    ``extras`` chosen, resolved recursively in this environment."""
    env = default_environment()
    todo = [(Requirement(r), extras) for r in requirements]
    seen: set[str] = set()
    while todo:
        req, chosen = todo.pop()
        if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": e}) for e in (chosen or {""})):
            continue
        name = canonicalize_name(req.name)
        if name == "nnbook":                      # nnbook[torch,...] inside an extra
            todo += [(Requirement(r), set(req.extras)) for r in requirements]
            continue
        if name in seen:
            continue
        seen.add(name)
        dist = metadata.distribution(req.name)
        todo += [(Requirement(r), set(req.extras)) for r in (dist.requires or [])]
    return seen


def make_venv(tmp: Path, wheel: Path, distributions: set[str]) -> Path:
    """A venv holding the wheel and, linked in, exactly ``distributions``."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   env=clean_env())
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--quiet", str(wheel)], check=True,
                   env=clean_env())
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    here = Path(sysconfig.get_paths()["purelib"])
    for name in distributions:
        dist = metadata.distribution(name)
        tops = {Path(f).parts[0] for f in (dist.files or []) if not str(f).startswith("..")}
        for top in tops:
            source, target = here / top, site / top
            if source.exists() and not target.exists() and top != "__pycache__":
                target.symlink_to(source)
    return python


CHECK = textwrap.dedent('''
    import importlib, json, pkgutil, sys
    import nnbook
    from nnbook._extras import MissingExtraError
    results = {}
    names = ["nnbook"] + [m.name for m in pkgutil.walk_packages(nnbook.__path__, "nnbook.")]
    for name in names:
        try:
            importlib.import_module(name)
            results[name] = "ok"
        except MissingExtraError as exc:
            results[name] = "extra: " + str(exc)
        except BaseException as exc:
            results[name] = f"error: {type(exc).__name__}: {exc}"
    others = {}
    for module in ["torch", "torchvision", "matplotlib", "sklearn", "mlxtend", "pandas",
                   "pycounts_tb"]:
        try:
            importlib.import_module(module)
            others[module] = True
        except ImportError:
            others[module] = False
    extra = {}
    if results.get("nnbook.data") == "ok":
        import os, tempfile
        from nnbook.data import load_mnist
        root = tempfile.mkdtemp()
        try:
            extra["load_mnist"] = repr(load_mnist(root=root, download=False).X_train.shape)
        except MissingExtraError as exc:
            extra["load_mnist"] = "extra: " + str(exc)
    print(json.dumps({"modules": results, "importable": others, "calls": extra,
                      "version": nnbook.__version__, "file": nnbook.__file__}))
''')


def run_check(python: Path, cwd: Path) -> dict:
    # -I: no current directory, user site or PYTHONPATH, so that the checkout's
    # own nnbook cannot be imported instead of the installed wheel
    result = subprocess.run([str(python), "-I", "-c", CHECK], capture_output=True, text=True,
                            cwd=cwd, env={"PATH": os.environ.get("PATH", ""),
                                          "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


NUMPY_ONLY = ("nnbook", "nnbook.scratch", "nnbook.claims", "nnbook.utils", "nnbook.exercises")


def test_wheel_metadata_declares_numpy_only_and_the_extras(wheel):
    requires = wheel_metadata(wheel)
    core = [r for r in requires if "extra ==" not in r]
    assert [Requirement(r).name for r in core] == ["numpy"]
    for r in requires:
        if Requirement(r).name != "nnbook":
            assert Requirement(r).specifier, f"{r} has no lower bound"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "nnbook/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.parametrize("extras", [(), ("plot",), ("torch",), ("torch", "data", "plot")],
                         ids=["numpy-only", "plot", "torch", "all"])
def test_modules_import_with_only_their_declared_dependencies(wheel, tmp_path, extras):
    requires = wheel_metadata(wheel)
    python = make_venv(tmp_path, wheel, closure(requires, set(extras)))
    report = run_check(python, tmp_path)
    modules, importable = report["modules"], report["importable"]
    assert Path(report["file"]).is_relative_to(tmp_path), report["file"]
    import nnbook
    assert report["version"] == nnbook.__version__

    errors = {k: v for k, v in modules.items() if v.startswith("error")}
    assert not errors, f"modules failing with something other than a missing extra: {errors}"
    for name, status in modules.items():
        if status.startswith("extra"):
            assert 'pip install "nnbook[' in status, (name, status)
    for name in NUMPY_ONLY:
        assert modules[name] == "ok", (name, modules[name])
    assert any(k.startswith("nnbook.scratch.") for k in modules)

    has = {"torch": "torch" in extras, "plot": "plot" in extras, "data": "data" in extras}
    # undeclared dependencies are not importable
    assert importable["torch"] is has["torch"] and importable["torchvision"] is has["torch"]
    assert importable["matplotlib"] is has["plot"]
    for module in ("sklearn", "mlxtend", "pycounts_tb"):
        assert importable[module] is has["data"], module

    torch_modules = [k for k in modules if k.startswith("nnbook.models")] + ["nnbook.training"]
    for name in torch_modules:
        expected = "ok" if has["torch"] else 'extra: nnbook.'
        assert modules[name].startswith(expected), (name, modules[name])
        if not has["torch"]:
            assert 'pip install "nnbook[torch]"' in modules[name]
    if has["plot"]:
        assert modules["nnbook.plotting"] == "ok"
    else:
        assert 'pip install "nnbook[plot]"' in modules["nnbook.plotting"]
    calls = report["calls"]
    if has["data"]:
        assert calls["load_mnist"] == "(4000, 1, 28, 28)", calls
    elif "load_mnist" in calls:
        assert 'pip install "nnbook[data]"' in calls["load_mnist"], calls
    if all(has.values()):
        assert set(modules.values()) == {"ok"}, modules
