"""The student edition of the exercise pages: one source, two editions.

Each exercise page ``book/exercises/chNN.md`` is the instructor's edition: it
holds the exercises, their hints, and the worked solutions (in ``Solution``
dropdowns and in code cells tagged ``hide-input``, executed at build time).
The student edition is built from the same file:

- every solution code cell (tagged ``hide-input``) becomes a stub, a cell that
  raises ``NotImplementedError`` where the reader writes their answer,
  followed by the same ``check_*`` call the solution ends with;
- every ``Solution`` dropdown is removed, and so are cells the book hides
  entirely (``remove-input``/``remove-cell``: glue and claim checks);
- numbers glued from the solutions are replaced by a placeholder, and MyST
  roles become plain Markdown, so that the notebook reads well in Jupyter or
  Colab;
- a first cell installs nnbook when the notebook runs on Colab.

Run top to bottom, a student notebook stops at its first stub with
``NotImplementedError`` (tests/test_student_edition.py checks this, and that
no solution text leaks into it).

    python book/_ext/student_edition.py OUT_DIR      # writes OUT_DIR/chNN.ipynb
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1]
EXERCISES = BOOK / "exercises"
REPOSITORY = "https://github.com/nnbook/nnbook"
COLAB = "https://colab.research.google.com/github/nnbook/nnbook/blob/notebooks/student"
SETUP = ("import sys\n"
         "if 'google.colab' in sys.modules:  # Colab: install the book's package first\n"
         f"    %pip install --quiet git+{REPOSITORY}")
SOLUTION_TAG = "hide-input"
DROPPED_TAGS = {"remove-input", "remove-cell"}

_SOLUTION_DROPDOWN = re.compile(r"^:::+\{dropdown\}\s*Solution.*?^:::+\s*$", re.S | re.M)
_GLUE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")
_BADGE = re.compile(r"\{bdg-[\w-]+\}`([^`]*)`")
_REF = re.compile(r"\{(?:ref|numref|doc|py:\w+|download)\}`([^`<]*?)(?:\s*<[^`]*>)?`")
_MATH_ROLE = re.compile(r"\{math\}`([^`]*)`")
_LABEL = re.compile(r"^\([\w-]+\)=\s*$", re.M)
_STUDENT_TIP = re.compile(r"^:::+\{tip\}\nWork through these exercises in the \*\*student "
                          r"notebook.*?^:::+\s*$", re.S | re.M)
_DROPDOWN_OPEN = re.compile(r"^:::+\{dropdown\}\s*(.*)$", re.M)
_ADMONITION_OPEN = re.compile(r"^:::+\{(\w+)\}\s*(.*)$", re.M)
_FENCE_CLOSE = re.compile(r"^:::+\s*$", re.M)


def _titles() -> dict[str, str]:
    """Page labels of the book and the titles they stand for (``ch-cnn`` -> title)."""
    titles = {}
    for page in BOOK.rglob("*.md"):
        if "_build" in page.parts:
            continue
        for label, title in re.findall(r"^\(([\w-]+)\)=\s*\n#+ (.+)$",
                                       page.read_text(encoding="utf-8"), flags=re.M):
            titles[label] = f"*{title.strip()}*"
    return titles


_TITLES: dict[str, str] = {}


def _ref_text(match) -> str:
    text = match.group(1).strip()
    if text.startswith("fig-"):
        return "the figure in the chapter"
    if not _TITLES:
        _TITLES.update(_titles())
    return _TITLES.get(text, text) or "the book"


def student_markdown(text: str) -> str:
    """A markdown cell of the student edition: no solutions, plain Markdown."""
    text = _SOLUTION_DROPDOWN.sub("", text)
    text = _STUDENT_TIP.sub("", text)
    text = _GLUE.sub("*(computed in the solution)*", text)
    text = _BADGE.sub(r"**[\1]**", text)
    text = _REF.sub(_ref_text, text)
    text = _MATH_ROLE.sub(r"$\1$", text)
    text = _LABEL.sub("", text)
    text = _DROPDOWN_OPEN.sub(lambda m: f"**{m.group(1).strip()}.**", text)
    text = _ADMONITION_OPEN.sub(lambda m: f"**{(m.group(2) or m.group(1)).strip().title()}.**",
                                text)
    text = _FENCE_CLOSE.sub("", text)
    return text.strip()


def check_calls(source: str) -> list[str]:
    """The top-level ``check_*(...)`` statements of a solution cell, as source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines()
    calls = []
    for node in tree.body:
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id.startswith("check_")):
            calls.append("\n".join(lines[node.lineno - 1:node.end_lineno]))
    return calls


def stub_source(number: int, solution: str) -> str:
    checks = check_calls(solution)
    parts = [f"# Exercise {number}: write your solution here, then run the cell.",
             f'raise NotImplementedError("exercise {number}: replace this line with your code")']
    if checks:
        parts += ["", "# The check below tells you whether your answer is right:"] + checks
    return "\n".join(parts)


def student_notebook(page: Path):
    """The student edition of one exercise page, as an nbformat notebook."""
    import nbformat
    from myst_nb.core.read import read_myst_markdown_notebook

    source = read_myst_markdown_notebook(page.read_text(encoding="utf-8"), path=str(page))
    chapter = page.stem
    cells = [nbformat.v4.new_code_cell(SETUP, metadata={"tags": ["colab-setup"]})]
    exercise = 0
    for cell in source.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            found = re.findall(r"^## Exercise (\d+)", cell.source, flags=re.M)
            if found:
                exercise = int(found[-1])
            text = student_markdown(cell.source)
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif cell.cell_type == "code":
            if tags & DROPPED_TAGS:
                continue
            if SOLUTION_TAG in tags:
                cells.append(nbformat.v4.new_code_cell(
                    stub_source(exercise, cell.source),
                    metadata={"tags": ["student-stub"], "exercise": exercise}))
            else:
                cells.append(nbformat.v4.new_code_cell(cell.source))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                       "name": "python3"}
    notebook.metadata["nnbook"] = {"edition": "student", "source": f"book/exercises/{page.name}",
                                   "chapter": chapter}
    return notebook


def exercise_pages() -> list[Path]:
    return sorted(EXERCISES.glob("ch[0-9][0-9].md"))


def write_student_notebooks(out: Path) -> list[Path]:
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in exercise_pages():
        target = out / f"{page.stem}.ipynb"
        text = nbformat.writes(student_notebook(page))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for path in write_student_notebooks(Path(sys.argv[1])):
        print(path)
