"""Titles and abstracts are shown as Unicode text, maths keeps its meaning, and the LaTeX source is kept (also for
old rows). tests/test_faithful_text.py checks that no word is lost, on real and generated text."""

from __future__ import annotations

import importlib
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
    (r"our \ourmethod achieves", r"our \ourmethod achieves"),  # an unknown macro stays as written
    (r"our \ours{} is", r"our \ours is"),
    (r"over 99% of cases; 5\% more", "over 99% of cases; 5% more"),  # `%` is a percent sign, not a comment
    (r"with \(9.6\times\) fewer samples", "with 9.6× fewer samples"),
    (r"the set \[ \sum_{i=1}^{n} x_i \leq \frac{1}{2} \]", "the set ∑ᵢ₌₁ⁿ xᵢ ≤ 1/2"),
    (r"Sch{\"o}dinger, Erd\H{o}s, \v{S}r\'amek and Petojevi\' c", "Schödinger, Erdős, Šrámek and Petojević"),
    (r"$\sqrt{n+1}$, $\mathbb{R}^d$ and $\hat{x}$", "√(n+1), ℝᵈ and x̂"),
    (r"{\bf 98}, see \cite{G2} and \href{https://a.org}{the site}", "98, see [G2] and the site (https://a.org)"),
    (r"LLaMA\nobreakdash-3.1 and \fireicon\ FiRe", r"LLaMA-3.1 and \fireicon FiRe"),
    (r"max weight {approx}0.2 (\eg, baselines)", "max weight ≈ 0.2 (e.g., baselines)"),
    (r"a tool\footnote{Code at https://x.org/a_b}", "a tool (Code at https://x.org/a_b)"),
    ("plain text, snake_case_name and a $5 fee", "plain text, snake_case_name and a $5 fee"),
]


@pytest.mark.parametrize("source,text", CASES)
def test_latex_becomes_readable_text(source, text):
    assert latex_to_text(source) == text


@pytest.mark.parametrize("hostile", [r"unbalanced { brace", "trailing \\", r"$ alone", r"\begin{equation} x^2",
                                     "}{}{$$", r"\newcommand{\x}{\x\x}\x", "$" * 50, "{" * 500, "{" * 5000 + "x",
                                     "\\" * 300, "^_" * 300, r"\frac" * 200, r"\sqrt{" * 2000,
                                     "$" + r"\frac" * 3000 + "$", "$" + r"\'" * 3000 + "$", "$" + "x^" * 3000 + "$"])
def test_broken_latex_never_leaves_a_stray_brace_or_fails(hostile):
    out = latex_to_text(hostile)
    assert not re.search(r"[{}]|\\(?![A-Za-z])", out)  # a backslash only where a macro is kept as written


def test_store_shows_text_and_keeps_the_source(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    source, title = r"We bound the error by $\mathcal{O}(\epsilon^2)$.", r"Sorting 99% of \(n\) keys in $O(n)$"
    store.upsert_papers([Paper(id="local:a", title=title, abstract=source),
                         Paper(id="local:b", title="B", abstract="Plain.")])
    a, b = store.get_paper("local:a"), store.get_paper("local:b")
    assert (a.abstract, a.abstract_source) == ("We bound the error by O(ϵ²).", source)
    assert (a.title, a.title_source) == ("Sorting 99% of n keys in O(n)", title)
    assert (b.abstract, b.abstract_source, b.title, b.title_source) == ("Plain.", None, "B", None)
    counts = store.upsert_papers([Paper(id="local:a", title=title, abstract=source)])
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


def test_migration_reads_old_titles_and_abstracts_again_and_keeps_the_title_source(backend, backend_settings):
    from paperscope.backends import open_store

    store = open_store(backend_settings)
    store.upsert_papers([Paper(id="local:t", title="T", abstract="x"), Paper(id="local:plain", title="P", abstract="y")])
    mark = "%s" if backend == "postgres" else "?"
    schema = importlib.import_module(f"paperscope.{'store_pg' if backend == 'postgres' else 'store'}.schema")
    version = schema.MIGRATIONS.index(schema._retext_rows) + 1
    with store.transaction() as conn:
        # As the previous reader left them: a title converted at parse time with its maths kept, an abstract cut at `%`.
        conn.execute(f"UPDATE papers SET title = {mark}, title_source = NULL, abstract = {mark}, abstract_source = {mark}"
                     " WHERE id = 'local:t'", ("Learning $\\mathcal{O}(n)$ attention", "Gains of 12",
                                               r"Gains of 12% at $\alpha$ with \ours."))
        conn.execute(f"DELETE FROM schema_migrations WHERE version = {mark}", (version,))
    before = store.max_seq()
    store.close()
    store = open_store(backend_settings)
    t = store.get_paper("local:t")
    assert (t.title, t.title_source) == ("Learning O(n) attention", "Learning $\\mathcal{O}(n)$ attention")
    assert (t.abstract, t.abstract_source) == (r"Gains of 12% at α with \ours.", r"Gains of 12% at $\alpha$ with \ours.")
    assert store.max_seq() == before + 1  # only the changed row is re-indexed and re-embedded
    assert store.get_paper("local:plain").title_source is None
    store.close()
