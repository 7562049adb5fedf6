"""Shown text never loses a word of its source: `%` is a percent sign, maths becomes Unicode, unknown macros stay.

Checked on every real abstract and title in ../shared/data (Hugging Face records, snapshot lines, arXiv Atom and
OAI-PMH recordings), through the API for the Hugging Face abstracts with a `%`, and on generated abstracts."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from paperscope.text import clean, latex_to_text

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# Maths as the check sees it (independent of the converter's own, and greedier: `$5 and $` counts as maths here).
_MATH = re.compile(r"\$\$.*?\$\$|\\\(.*?\\\)|\\\[.*?\\\]|\$[^$]*\$", re.S)
_WORD = re.compile(r"\w+")


def shared(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.fail(f"missing {path}: these tests read the shared third-party data (see CONTRIBUTING)", pytrace=False)
    return path


def source_words(source: str) -> Counter[str]:
    """Words of the source outside maths and macros: whitespace-separated tokens with no `\\ { } ^ _ ~ $` in them
    (an accent written `\\' c` counts as touching its macro)."""
    text = _MATH.sub("$", clean(re.sub(r"(\\['\"`^~=.]) (\w)", r"\1\2", source)))
    words: Counter[str] = Counter()
    for token in text.split():
        if not re.search(r"[\\{}^_~$]", token):
            words.update(_WORD.findall(token))
    return words


def lost_words(source: str, shown: str) -> Counter[str]:
    return source_words(source) - Counter(_WORD.findall(shown))


def hf_records() -> list[dict]:
    with shared("hf-daily-papers.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def real_texts() -> list[tuple[str, str]]:
    texts = []
    for rec in hf_records():
        texts += [(rec["paper"]["id"], rec["paper"]["summary"]), (rec["paper"]["id"], rec["paper"]["title"])]
    with shared("arxiv-snapshot-sample.jsonl").open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            texts += [(rec["id"], rec["abstract"]), (rec["id"], rec["title"])]
    for path in sorted(shared("real-arxiv").glob("*.xml")):
        for el in etree.parse(str(path)).iter():
            if isinstance(el.tag, str) and etree.QName(el).localname in ("summary", "title", "abstract") and el.text:
                texts.append((path.name, el.text))
    return texts


def test_every_real_abstract_and_title_keeps_every_word_of_its_source():
    texts = real_texts()
    assert len(texts) > 4000
    lost = {(rid, source[:60]): dict(missing) for rid, source in texts
            if (missing := lost_words(source, latex_to_text(clean(source))))}
    assert not lost


def test_unknown_macros_stay_as_written_and_invent_no_words():
    checked = set()
    for rec in hf_records():
        source = rec["paper"]["summary"]
        shown = latex_to_text(clean(source))
        for name in ("circone", "fireicon", "ours", "ourmethod", "shortopd"):
            if re.search(rf"\\{name}(?![A-Za-z])", source):
                checked.add(name)
                assert source.count("\\" + name) == shown.count("\\" + name), (rec["paper"]["id"], name)
                bare = re.compile(rf"(?<!\\)\b{name}\b")  # the word the macro used to become
                assert len(bare.findall(shown)) == len(bare.findall(source)), (rec["paper"]["id"], name)
        if rec["paper"]["id"] == "2606.02684":
            assert "\\fireicon FiRe-OPD" in shown
    assert checked == {"circone", "fireicon", "ours", "ourmethod", "shortopd"}


@pytest.mark.parametrize("paper_id", ["2606.21959", "2607.03068", "2605.21573"])
def test_the_abstracts_that_lost_most_after_a_percent_sign_keep_all_of_it(paper_id):
    source = next(r["paper"]["summary"] for r in hf_records() if r["paper"]["id"] == paper_id)
    shown = latex_to_text(clean(source))
    assert "%" in shown and len(shown) > 0.9 * len(clean(source))
    assert shown.split()[-3:] == clean(source).split()[-3:]  # it ends where the source ends


def test_inline_maths_becomes_unicode_next_to_its_words():
    source = next(r["paper"]["summary"] for r in hf_records() if r["paper"]["id"] == "2607.21051")
    assert r"\(9.6\times\) fewer" in source
    assert "at least 9.6× fewer environment samples" in latex_to_text(clean(source))


def test_hf_abstracts_with_a_percent_sign_are_served_whole(tmp_path, settings, store, fake_embedder):
    from fastapi.testclient import TestClient

    from paperscope.pipeline import SourceOptions, embed_papers, ingest, update_indexes
    from paperscope.search import open_engine
    from paperscope.web.app import create_app

    records = [r for r in hf_records() if "%" in r["paper"]["summary"]]
    assert len(records) == 612
    path = tmp_path / "percent.jsonl"
    # the records as Hugging Face gives them, plus the arXiv id its `paper` holds (the file source reads top-level fields)
    path.write_text("".join(json.dumps({**r, "arxiv_id": r["paper"]["id"]}) + "\n" for r in records), encoding="utf-8")
    report = ingest(store, settings, "file", SourceOptions(path=path))
    assert report.added == len(records) and not report.problems
    embed_papers(store, fake_embedder)
    update_indexes(store, settings, fake_embedder.name, fake_embedder.dim)
    lost = {}
    with TestClient(create_app(settings, open_engine(store, settings, fake_embedder))) as client:
        for rec in records:
            body = client.get(f"/api/papers/{rec['paper']['id']}").json()
            if missing := lost_words(rec["summary"], body["summary"]):
                lost[rec["paper"]["id"]] = dict(missing)
            if missing := lost_words(rec["title"], body["title"]):
                lost[rec["paper"]["id"] + " title"] = dict(missing)
    assert not lost


# --- generated abstracts: words, `%`, `$`, braces and backslashes in any mix --------------------------------

_PLAIN = st.from_regex(r"[A-Za-z][a-z]{0,8}|[0-9]{1,3}(\.[0-9])?%?", fullmatch=True)
_SEP = st.sampled_from([" ", " ", "", "\n"])
_PIECES = st.one_of(
    st.tuples(st.one_of(_PLAIN, _PLAIN.map(lambda w: w + "%"), _PLAIN.map(lambda w: "{" + w + "}"), st.just("%"),
                        st.just("\\%"), st.sampled_from(["{", "}", "$", "\\", "$$", "~", "^", "_", "\\\\", "{}"]),
                        st.tuples(_PLAIN, _PLAIN).map(lambda ab: f"${ab[0]}^{{{ab[1]}}}$")), _SEP),
    # a macro is followed by a space or a group, as written in real abstracts
    st.tuples(st.sampled_from(["\\alpha", "\\times", "\\emph", "\\ours", "\\methodname", "\\textbf", "\\'e",
                               "\\cite", "\\frac", "\\sqrt", "\\mathcal", "\\begin{itemize}", "\\item",
                               "\\end{itemize}", "\\(", "\\)"]), st.sampled_from([" ", "\n", "{}"])),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_generated_abstracts_keep_their_words_and_leave_no_stray_brace(pieces):
    source = "".join(p + sep for p, sep in pieces)
    shown = latex_to_text(source)
    assert not lost_words(source, shown)
    assert ("{" not in shown or "\\{" in source) and ("}" not in shown or "\\}" in source)  # `\{` is a brace
    assert not re.search(r"\\(\s|$)", shown)  # a backslash is only ever the start of a macro kept as written
    unknown = [t for t in re.findall(r"\\(?:[A-Za-z]+|.)", source) if t in ("\\ours", "\\methodname")]
    assert len(unknown) == len(re.findall(r"\\(?:ours|methodname)\b", shown))


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(" \t\n\u00a0\u2028\x85\x00<>"), max_size=60))
def test_text_taken_as_already_clean_is_exactly_what_cleaning_makes_of_it(text):
    from paperscope.clean import cap_text, strip_controls
    from paperscope.text import is_collapsed

    assert is_collapsed(text) == (" ".join(strip_controls(text).split()) == text and text.isprintable())
    assert cap_text(text, 10_000) == " ".join(strip_controls(text).split())
    assert clean(text) == (text if is_collapsed(text) and "<" not in text else clean(" " + text))
