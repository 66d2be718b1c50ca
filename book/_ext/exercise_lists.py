"""Each chapter's list of exercises, generated from its exercise page.

The exercise page ``book/exercises/chNN.md`` is the one source: every
exercise there has a label (``(exNN-K)=``), a title (``## Exercise K: ...``),
a difficulty badge and, where the answer is code, the checks its solution
calls. This module writes ``book/exercises/_lists/chNN.md``, a numbered
list with one item per exercise (difficulty, linked title, the statement,
the checks), which the chapter includes at its end::

    ```{include} ../exercises/_lists/ch04.md
    ```

so that the chapter lists all of its exercises, with the same titles and
difficulties as the exercise page, and links to each of them. The exercise
page links back to the chapter's exercise section (``chNN-exercises``). A
chapter of several pages (11, 12) ends with a page of its own for the list,
``chapters/NN-K-exercises.md``, so that the list comes after all its
sections.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1]
EXERCISES = BOOK / "exercises"
LISTS = EXERCISES / "_lists"

_HEADING = re.compile(r"^\((ex\d\d-\d+)\)=\n## Exercise (\d+): (.+)$", re.M)
_BADGE = re.compile(r"\{bdg-([\w-]+)\}`([^`]*)`")
_CHECK = re.compile(r"^\s*(check_\w+)\(", re.M)
_CODE = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)


def exercises(page: Path) -> list[dict]:
    """The exercises of one page: label, number, title, difficulty, checks."""
    text = page.read_text(encoding="utf-8")
    found = list(_HEADING.finditer(text))
    items = []
    for i, match in enumerate(found):
        body = text[match.end():found[i + 1].start() if i + 1 < len(found) else len(text)]
        badge = _BADGE.search(body)
        checks = []
        for cell in _CODE.findall(body):
            for name in _CHECK.findall(cell):
                if name not in checks:
                    checks.append(name)
        statement = re.split(r"^(?::::|```)", body, maxsplit=1, flags=re.M)[0]
        statement = _BADGE.sub("", statement, count=1).replace("(added)", "").strip()
        if "{glue" in statement or "(ex" in statement:
            statement = ""          # glued numbers and labels belong to the exercise page
        items.append({"label": match.group(1), "number": int(match.group(2)),
                      "title": match.group(3).strip(),
                      "badge": badge.group(0) if badge else "",
                      "difficulty": badge.group(2) if badge else "",
                      "statement": " ".join(statement.split()),
                      "checks": checks})
    return items


def exercise_list(page: Path) -> str:
    """A numbered list: difficulty, title (linked), the statement, the checks."""
    lines = []
    for item in exercises(page):
        title = item["title"].replace("`", "")       # a {ref} title cannot hold code
        title = title[:1].upper() + title[1:]
        checks = (" Checked by " + ", ".join(f"`{c}`" for c in item["checks"]) + "."
                  if item["checks"] else "")
        lines.append(f"{item['number']}. {item['badge']} **{{ref}}`{title} <{item['label']}>`.** "
                     f"{item['statement']}{checks}")
    return "\n".join(lines) + "\n"


def write_exercise_lists(out: Path = LISTS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in sorted(EXERCISES.glob("ch[0-9][0-9].md")):
        target = out / page.name
        text = exercise_list(page)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    for path in write_exercise_lists(Path(sys.argv[1]) if len(sys.argv) > 1 else LISTS):
        print(path)
