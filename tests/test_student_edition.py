"""The student edition of the exercise pages: it runs to its first stub, where it
stops with NotImplementedError, and no solution leaks into it."""
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import student_edition  # noqa: E402

sys.path.pop(0)

PAGES = student_edition.exercise_pages()


def test_there_is_a_student_notebook_per_exercise_page(tmp_path):
    written = student_edition.write_student_notebooks(tmp_path)
    assert [p.stem for p in written] == [p.stem for p in PAGES] and len(PAGES) == 12


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_no_solution_leaks(page):
    notebook = student_edition.student_notebook(page)
    text = "\n".join(c.source for c in notebook.cells)
    assert "{dropdown} Solution" not in text and "Solution" not in re.findall(r"\*\*(\w+)\.\*\*",
                                                                            text)
    original = nbformat.reads(nbformat.writes(
        __import__("myst_nb.core.read", fromlist=["x"]).read_myst_markdown_notebook(
            page.read_text(encoding="utf-8"))), as_version=4)
    stubs = [c for c in notebook.cells if "student-stub" in c.metadata.get("tags", [])]
    solutions = [c for c in original.cells
                 if c.cell_type == "code" and "hide-input" in c.metadata.get("tags", [])]
    assert len(stubs) == len(solutions) > 0
    # Text the exercise itself shows the reader (statements, hints, set-up code).
    public = "\n".join(student_edition._SOLUTION_DROPDOWN.sub("", c.source)
                       for c in original.cells if c not in solutions)
    for cell in solutions:
        checks = "\n".join(student_edition.check_calls(cell.source)) + public
        for line in cell.source.splitlines():
            line = line.strip()
            if len(line) > 20 and line not in checks and not line.startswith(("#", "from ",
                                                                                "import ")):
                assert line not in text, f"{page.name}: solution line leaked: {line!r}"
    # The Solution dropdowns' prose is gone too.
    for block in re.findall(r":::+\{dropdown\}\s*Solution\n(.*?)\n:::", page.read_text(), re.S):
        first = block.strip().splitlines()[0]
        if len(first) > 30:
            assert first not in text, f"{page.name}: solution prose leaked: {first!r}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_student_notebook_stops_at_its_first_stub(page, tmp_path):
    notebook = student_edition.student_notebook(page)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(page.parent)}})
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "NotImplementedError", info.value
    executed = [c for c in notebook.cells if c.cell_type == "code"]
    failed = [i for i, c in enumerate(executed)
              if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    first_stub = next(i for i, c in enumerate(executed)
                      if "student-stub" in c.metadata.get("tags", []))
    assert failed == [first_stub], f"{page.name}: errors in cells {failed}, first stub {first_stub}"
