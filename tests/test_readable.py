"""Abstracts are shown as Unicode text, maths keeps its meaning, and the LaTeX source is kept (also for old rows)."""

from __future__ import annotations

import re

import pytest

from paperscope.models import Paper
from paperscope.store import Store
from paperscope.text import latex_to_text

CASES = [
    (r"runs in $\mathcal{O}(n^2)$ time", "runs in O(n²) time"),
    (r"with $\alpha = 0.5$ and $\beta$", "with α = 0.5 and β"),
    (r"an \emph{important} result by M{\"u}ller", "an important result by Müller"),
    (r"10-100\times faster on 4{,}851 inputs, 1\% error", "10-100× faster on 4,851 inputs, 1% error"),
    (r"$\pi_{0.5}$ and $R^{2} > 0.99$ with $x_i$", "π₀.₅ and R² > 0.99 with xᵢ"),
    (r"compute from 10^{19} to 10^{22} FLOPs", "compute from 10¹⁹ to 10²² FLOPs"),
    (r"our \ourmethod achieves", "our ourmethod achieves"),
    (r"max weight {approx}0.2 (\eg, baselines)", "max weight ≈ 0.2 (e.g., baselines)"),
    (r"a tool\footnote{Code at https://x.org/a_b}", "a tool (Code at https://x.org/a_b)"),
    ("plain text, snake_case_name and a $5 fee", "plain text, snake_case_name and a $5 fee"),
]


@pytest.mark.parametrize("source,text", CASES)
def test_latex_becomes_readable_text(source, text):
    assert latex_to_text(source) == text


@pytest.mark.parametrize("hostile", [r"unbalanced { brace", "trailing \\", r"$ alone", r"\begin{equation} x^2",
                                     "}{}{$$",
                                     r"\newcommand{\x}{\x\x}\x", "$" * 50, "{" * 500])
def test_broken_latex_never_leaves_a_stray_marker_or_fails(hostile):
    out = latex_to_text(hostile)
    assert not re.search(r"[\\{}]|\$(?!\d)", out)


def test_store_shows_text_and_keeps_the_source(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    source = r"We bound the error by $\mathcal{O}(\epsilon^2)$."
    store.upsert_papers([Paper(id="local:a", title="A", abstract=source),
                         Paper(id="local:b", title="B", abstract="Plain.")])
    a, b = store.get_paper("local:a"), store.get_paper("local:b")
    assert (a.abstract, a.abstract_source) == ("We bound the error by O(ϵ²).", source)
    assert (b.abstract, b.abstract_source) == ("Plain.", None)
    counts = store.upsert_papers([Paper(id="local:a", title="A", abstract=source)])
    assert counts["unchanged"] == 1  # the same source again is no change
    store.close()


def test_migration_converts_rows_stored_before_it_and_reindexes_them(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    store.upsert_papers([Paper(id="local:old", title="Old", abstract="x")])
    raw = r"Sorting in $O(n \log n)$ with \textbf{no} extra memory."
    # A row as an older paperscope stored it: the raw LaTeX as the abstract, no source column filled.
    store.conn.execute("UPDATE papers SET abstract = ?, abstract_source = NULL WHERE id = 'local:old'", (raw,))
    before = store.max_seq()
    from paperscope.store.schema import MIGRATIONS, _convert_abstracts

    version = MIGRATIONS.index(_convert_abstracts) + 1
    store.conn.execute("DELETE FROM schema_migrations WHERE version = ?", (version,))
    store.close()
    store = Store(path)
    old = store.get_paper("local:old")
    assert (old.abstract, old.abstract_source) == ("Sorting in O(n log n) with no extra memory.", raw)
    assert store.max_seq() > before  # the next `update` re-indexes and re-embeds it
    store.close()
