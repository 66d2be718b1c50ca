"""nnbook.claims: claims fail loudly with their numbers, and every content page checks its claims."""
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnbook.claims import (ClaimError, accuracy_standard_error, claim, claim_between, claim_close,
                           claim_greater, claim_less, claim_separated, claim_within_noise,
                           format_mean_sd, mean_sd, standard_error)

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

# Pages that run no experiment: nothing on them reports an outcome.
PAGES_WITHOUT_EXPERIMENTS = {"reference/execution-statistics.md", "exercises/index.md"}
CLAIM_CALL = re.compile(r"\bclaim(?:_[a-z_]+)?\(")


def test_claim_holds_silently_and_fails_naming_statement_and_numbers():
    claim("two is less than three", 2 < 3, a=2, b=3)
    with pytest.raises(ClaimError, match=r"the CNN beats the MLP.*cnn=0\.91.*mlp=0\.95"):
        claim("the CNN beats the MLP", 0.91 > 0.95, cnn=0.91, mlp=0.95)


def test_claim_rejects_a_non_boolean_condition():
    with pytest.raises(TypeError, match="holds must be a bool"):
        claim("forgot the comparison", 0.3)
    with pytest.raises(TypeError, match="statement"):
        claim("", True)


def test_comparisons():
    claim_less("loss below", 0.1, 0.2)
    claim_greater("accuracy above", 0.9, 0.8, margin=0.05)
    with pytest.raises(ClaimError, match="accuracy above"):
        claim_greater("accuracy above", 0.9, 0.88, margin=0.05)
    with pytest.raises(ClaimError, match="residual.*plain=0.5"):
        claim_less("residual below plain", 0.7, 0.5, names=("residual", "plain"))
    claim_between("stays at chance", 0.51, 0.45, 0.55)
    with pytest.raises(ClaimError, match="value=0.7"):
        claim_between("stays at chance", 0.7, 0.45, 0.55)
    with pytest.raises(TypeError, match="smaller must be a real number"):
        claim_less("bad", [1, 2], 3)


def test_claim_close_reports_the_largest_difference():
    a = np.array([1.0, 2.0, 3.0])
    claim_close("matches to 1e-9", a + 1e-12, a, atol=1e-9)
    with pytest.raises(ClaimError, match="largest_difference=0.001"):
        claim_close("matches to 1e-9", a + np.array([0, 1e-3, 0]), a, atol=1e-9)
    with pytest.raises(ClaimError):
        claim_close("nan never matches", np.array([np.nan]), np.array([1.0]), atol=1.0)
    with pytest.raises(ValueError, match="same shape"):
        claim_close("shapes", np.zeros(2), np.zeros(3), atol=1)
    with pytest.raises(ValueError, match="atol or rtol"):
        claim_close("no tolerance", a, a)


def test_seed_statistics():
    mean, sd = mean_sd([1.0, 2.0, 3.0])
    assert mean == 2.0 and sd == pytest.approx(1.0)
    assert standard_error([1.0, 2.0, 3.0]) == pytest.approx(1 / np.sqrt(3))
    assert accuracy_standard_error(0.9, 100) == pytest.approx(0.03)
    assert format_mean_sd([0.9, 0.92], digits=1, scale=100, unit="%") == "91.0 ± 1.4%"
    with pytest.raises(ValueError, match="at least 2"):
        mean_sd([1.0])
    with pytest.raises(ValueError, match="accuracy must be a fraction"):
        accuracy_standard_error(91, 100)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        accuracy_standard_error(0.9, 0)


def test_separated_and_within_noise():
    better, worse = [0.95, 0.96, 0.955, 0.958, 0.952], [0.90, 0.91, 0.905, 0.899, 0.902]
    claim_separated("A beats B", better, worse)
    with pytest.raises(ClaimError, match="gap="):
        claim_separated("B beats A", worse, better)
    noisy_a, noisy_b = [0.90, 0.95, 0.92], [0.91, 0.93, 0.94]
    claim_within_noise("A and B are within noise", noisy_a, noisy_b)
    with pytest.raises(ClaimError):
        claim_separated("A beats B beyond noise", noisy_b, noisy_a)
    with pytest.raises(ClaimError):
        claim_within_noise("A and B are the same", better, worse)
    claim_separated("lower loss", [0.1, 0.11, 0.12], [0.5, 0.52, 0.51], higher_is_better=False)


def _code_cells(text: str) -> list[str]:
    return re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S)


def content_pages() -> list[Path]:
    toc = (ROOT / "_toc.yml").read_text()
    # the landing page (root) first, then every file the table of contents lists
    files = re.findall(r"^root:\s*(\S+)", toc, flags=re.M) + re.findall(r"file:\s*(\S+)", toc)
    return [BOOK / f"{f}.md" for f in files]


def claim_counts() -> dict[str, int]:
    """Claim checks per page, counted in the pages' code cells."""
    counts = {}
    for page in content_pages():
        cells = _code_cells(page.read_text(encoding="utf-8"))
        counts[page.relative_to(BOOK).as_posix()] = sum(len(CLAIM_CALL.findall(c)) for c in cells)
    return counts


@pytest.mark.parametrize("page", [p.relative_to(BOOK).as_posix() for p in content_pages()])
def test_every_page_with_experiments_checks_its_claims(page):
    if page in PAGES_WITHOUT_EXPERIMENTS:
        return
    text = (BOOK / page).read_text(encoding="utf-8")
    if not _code_cells(text):
        return
    assert claim_counts()[page] > 0, (
        f"{page} runs code but checks none of its claims: after each experiment whose outcome "
        "the prose states, add a hidden cell calling nnbook.claims.claim*(...)")


def test_a_broken_claim_fails_the_strict_build_naming_it(tmp_path):
    """A one-page book whose claim is false: the strict build fails and names the claim."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(textwrap.dedent("""\
        title: claim check
        execute:
          execute_notebooks: force
          raise_on_error: true
        """))
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "index.md").write_text(textwrap.dedent("""\
        ---
        file_format: mystnb
        kernelspec:
          name: python3
          display_name: Python 3
        ---
        # A page

        ```{code-cell} ipython3
        from nnbook.claims import claim_less
        residual, plain = 0.40, 0.25
        claim_less("the residual network's loss is below the plain network's",
                   residual, plain, names=("residual", "plain"))
        ```
        """))
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jb), "build", str(book), "-W", "--keep-going"],
                            capture_output=True, text=True, timeout=240)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-2000:]
    assert "the residual network's loss is below the plain network's" in log, log[-3000:]
    assert "residual=0.4" in log and "plain=0.25" in log
