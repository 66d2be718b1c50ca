"""Collect the executed notebooks of a build for publishing on the `notebooks`
branch, where the site's Colab buttons point.

    python .ci/publish_notebooks.py _build/jupyter_execute OUT_DIR

writes OUT_DIR/book/<page>.ipynb for every page, with a first cell that, on
Colab only, installs nnbook from the repository (Colab has PyTorch but not
nnbook).
"""
import json
import sys
from pathlib import Path

REPOSITORY = "https://github.com/nnbook/nnbook"
SETUP = ("import sys\n"
         "if 'google.colab' in sys.modules:  # Colab: install the book's package first\n"
         f"    %pip install --quiet git+{REPOSITORY}")


def publish(executed: Path, out: Path) -> list[Path]:
    written = []
    for source in sorted(executed.rglob("*.ipynb")):
        notebook = json.loads(source.read_text(encoding="utf-8"))
        notebook["cells"].insert(0, {"cell_type": "code", "execution_count": None,
                                     "metadata": {"tags": ["colab-setup"]}, "outputs": [],
                                     "source": SETUP})
        target = out / "book" / source.relative_to(executed)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    for path in publish(Path(sys.argv[1]), Path(sys.argv[2])):
        print(path)
