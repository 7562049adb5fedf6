"""The README's examples run as written: every `paperscope …` line of its "Using it" block is run here as a real CLI
process (servers until they answer), and what its comment promises is checked.

Offline lines run on a copy of the bundled sample (`ingest sample` + `update`, built once). Lines marked
`network` run against loopback stand-ins of arXiv (the real recorded OAI-PMH and API bodies in
../shared/data/real-arxiv, and the hand-written arXiv-format pages in tests/data) and of Hugging Face (real
daily-papers items from ../shared/data/hf-daily-papers.jsonl). Lines marked `needs` get the file they name from
the shared data. A new example without a check here fails, so the README cannot drift from the code."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from demoing import running_demo
from recorded import DATA, RecordedServer, hf_daily_stand_in, shared
from serving import serving_process

README = Path(__file__).resolve().parent.parent / "README.md"
HF_DAYS = ("2026-08-20", "2026-08-21")  # the stand-in's slice of the real HF items (the demo embeds them all)


def readme_lines() -> list[tuple[str, str]]:
    """(command, comment) for each `paperscope …` line of the fenced block under "## Using it"."""
    text = README.read_text(encoding="utf-8")
    block = text.split("\n## Using it\n", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = []
    for raw in block.splitlines():
        if not raw.startswith("paperscope "):
            continue
        command, *comment = re.split(r"\s+#\s+", raw, maxsplit=1)
        lines.append((command.strip(), "".join(comment).strip()))
    return lines


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(home: Path, args: list[str], env: dict[str, str]) -> Run:
    done = subprocess.run([sys.executable, "-m", "paperscope", "--data-dir", str(home), *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def ok(run: Run, *expected: str) -> None:
    assert run.code == 0, run.err
    assert not re.search(r"^error: ", run.err, re.M), run.err
    for text in expected:
        assert text in run.out, f"{text!r} not in:\n{run.out}"


def added(run: Run, source: str) -> int:
    ok(run)
    match = re.search(rf"^{source}\S*: (\d+) added", run.out, re.M)
    assert match, run.out
    return int(match.group(1))


def hits(run: Run) -> list[dict]:
    ok(run)
    answer = json.loads(run.out)
    assert not answer["notes"], answer["notes"]
    return list(answer["hits"])


def no_notes(run: Run) -> None:
    assert "note:" not in run.err, run.err  # no "matches no paper" and no "dropped" note
    assert not re.search(r"^0 result", run.out, re.M), run.out


# --- what each line promises -----------------------------------------------------------------------------

def check_ingest_sample(run: Run) -> None:
    assert added(run, "sample") == 564


def check_update(run: Run) -> None:
    ok(run, "indexed 564 paper(s) and 564 vector(s)")  # the sample's vectors are bundled: nothing to embed


def check_update_json(run: Run) -> None:
    assert run.code == 1, run.err  # "exit 1: nothing changed"
    assert json.loads(run.out)["changed"] is False


def check_stats(run: Run) -> None:
    ok(run)
    stats = json.loads(run.out)
    assert stats["papers"] == 564 and stats["models"][0]["vectors"] == 564


def check_search_phrase(run: Run) -> None:
    ok(run)
    no_notes(run)
    results = re.findall(r"^ *\d+\. (.+?)  \[", run.out, re.M)
    assert results, run.out
    assert "survey" not in run.out.lower()
    # the phrase is required: every hit's title or snippet carries it
    assert len(re.findall(r"information retrieval", run.out, re.I)) >= len(results)


def check_search_keyword(run: Run) -> None:
    found = hits(run)
    assert found and all(h["reason"] == "keyword" for h in found), found
    assert all("Matryoshka" in h["title"] for h in found[:2])


def check_show(run: Run) -> None:
    ok(run, "Binary Embedding-based Retrieval at Tencent", "id: local:lp-aa741d08d9")


def check_similar(run: Run) -> None:
    ok(run)
    no_notes(run)
    ids = re.findall(r"\[(local:lp-[0-9a-f]+)\]", run.out)
    assert len(ids) >= 5 and not {"local:lp-aa741d08d9", "local:lp-e8e7475857"} & set(ids), run.out
    assert "quantization" not in run.out.lower()


def check_index_rebuild(run: Run) -> None:
    ok(run, "indexed 564 paper(s)")


def check_oai(run: Run) -> None:
    assert added(run, "arxiv_oai") == 4  # both hand-written arXiv-format pages, through the token (one has no title)


def check_oai_raw(run: Run) -> None:
    assert added(run, "arxiv_oai") == 388  # the real 2016 arXivRaw page (387) and the record ending the chain


def check_oai_category(run: Run) -> None:
    assert added(run, "arxiv_oai") == 2  # only the cs.IR / cs.CL papers of the 5


def check_api_query(run: Run) -> None:
    assert added(run, "arxiv_api") == 50  # five real pages of ten


def check_api_id(run: Run) -> None:
    assert added(run, "arxiv_api") == 1


def check_hf(run: Run) -> None:
    assert added(run, "hf_daily") > 20


def check_update_oai(run: Run) -> None:
    ok(run)
    assert re.search(r"^arxiv_oai\S*: 2 added", run.out, re.M), run.out
    assert re.search(r"embedded 2\b", run.out), run.out


def check_search_filters(run: Run) -> None:
    ok(run, "Dense Retrieval with Binary Embeddings")
    no_notes(run)


def check_search_author(run: Run) -> None:
    found = hits(run)
    assert [h["title"] for h in found] == ["Dense Retrieval with Binary Embeddings"], found


def check_snapshot(run: Run) -> None:
    assert added(run, "arxiv_snapshot") == 200


def check_file(run: Run) -> None:
    assert added(run, "files") > 0


def check_eval(run: Run) -> None:
    ok(run)
    for mode in ("keyword", "semantic", "hybrid"):
        assert mode in run.out
    assert "ndcg@10" in run.out.lower()


def check_served(url: str) -> None:
    assert "<article" in requests.get(url + "/search?q=binary+embeddings", timeout=30).text
    assert requests.get(url + "/api/stats", timeout=30).json()["papers"] >= 1


def check_scheduled(url: str) -> None:
    check_served(url)
    status = requests.get(url + "/api/status", timeout=30).json()
    assert "daily 06:00" in json.dumps(status), status


def check_demo(url: str) -> None:
    day = requests.get(url + "/api/daily_papers", timeout=30).json()
    assert day and all(p["paper"]["upvotes"] >= 0 for p in day)
    assert "<article" in requests.get(url + "/search?q=agents", timeout=30).text


# (how the line starts, where it runs, its check). Homes: "sample" one data dir for the offline lines in README
# order, from `ingest sample` on; "serve" a copy of the sample as `ingest sample` + `update` leave it; "own" a fresh data dir for one line; "updated" the data dir of the `update
# arxiv-oai` line, which the searches that need dated, categorised, authored papers then read.
CHECKS: list[tuple[str, str, Callable]] = [
    ("demo", "demo", check_demo),
    ("ingest sample", "sample", check_ingest_sample),
    ("update --json", "sample", check_update_json),
    ("update arxiv-oai", "updated", check_update_oai),
    ("update", "sample", check_update),
    ("stats --json", "sample", check_stats),
    ("search 'binary embeddings \"information retrieval\" -survey'", "sample", check_search_phrase),
    ("search 'matryoshka", "sample", check_search_keyword),
    ("show lp-aa741d08d9", "sample", check_show),
    ("similar lp-aa741d08d9", "sample", check_similar),
    ("index --rebuild", "sample", check_index_rebuild),
    ("serve --schedule", "serve", check_scheduled),
    ("serve", "serve", check_served),
    ("ingest arxiv-oai --set cs --from", "own", check_oai),
    ("ingest arxiv-oai --set cs --prefix arXivRaw", "own", check_oai_raw),
    ("ingest arxiv-oai --set cs --category", "own", check_oai_category),
    ("ingest arxiv-api --query", "own", check_api_query),
    ("ingest arxiv-api --id", "own", check_api_id),
    ("ingest hf-daily", "own", check_hf),
    ("search 'binary embeddings \"float rescoring\" cat:cs.IR", "updated", check_search_filters),
    ("search 'author:", "updated", check_search_author),
    ("ingest snapshot", "own", check_snapshot),
    ("ingest file", "own", check_file),
    ("eval", "own", check_eval),
]


def check_for(command: str) -> tuple[str, Callable]:
    rest = command.removeprefix("paperscope ")
    for start, where, check in CHECKS:
        if rest.startswith(start):
            return where, check
    raise AssertionError(f"README example without a check in tests/test_readme_examples.py: {command}")


def marker(command: str, where: str) -> str:
    """What the comment beside a line must start with: `needs` (a file, or papers the sample lacks), `network`."""
    if command.startswith(("paperscope ingest snapshot", "paperscope ingest file", "paperscope eval")) or (
            where == "updated" and command.startswith("paperscope search")):
        return "needs"
    return "network" if where in ("own", "demo", "updated") else ""


def test_every_readme_example_has_a_check_and_says_what_it_needs() -> None:
    lines = readme_lines()
    assert len(lines) >= 20
    for command, comment in lines:
        needs = marker(command, check_for(command)[0])
        if needs:
            assert comment.startswith(needs), f"say `{needs}` beside: {command}"
        else:
            assert not comment.startswith(("needs", "network")), command


# --- the stand-ins, the homes and the files ------------------------------------------------------------------

def _real(name: str) -> bytes:
    return shared("real-arxiv", name).read_bytes()


@pytest.fixture(scope="module")
def stand_in() -> Iterator[RecordedServer]:
    """arXiv's OAI-PMH and API and Hugging Face's daily papers on one loopback server."""
    srv = RecordedServer()
    srv.add_file("/oai", "oai_arxiv_page1.xml", when={"metadataPrefix": "arXiv"})
    srv.add_file("/oai", "oai_arxiv_page2.xml", when={"resumptionToken": "token-page-2"})
    srv.add("/oai", _real("oai_arxivraw_listrecords_2016-10-20.xml"), when={"metadataPrefix": "arXivRaw"})
    srv.add("/oai", _real("oai_arxivraw_getrecord_0804.2273.xml"), when={"resumptionToken": "1403493|1001"})
    srv.add("/api/query", _real("api_id_1707.08567.xml"), when={"id_list": "1707.08567"})
    for start in (0, 10, 20, 30, 40):
        srv.add("/api/query", _real(f"api_q_testing_s{start}_m10.xml"), when={"start": str(start)})
    items = [json.loads(line) for line in shared("hf-daily-papers.jsonl").read_text(encoding="utf-8").splitlines()]
    hf_daily_stand_in(srv, [i for i in items if HF_DAYS[0] <= i["paper"]["submittedOnDailyAt"][:10] <= HF_DAYS[1]])
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def env(stand_in: RecordedServer) -> dict[str, str]:
    return {"PAPERSCOPE_ARXIV_OAI_URL": stand_in.url + "/oai", "PAPERSCOPE_ARXIV_API_URL": stand_in.url + "/api/query",
            "PAPERSCOPE_HF_API_URL": stand_in.url, "PAPERSCOPE_ARXIV_OAI_DELAY": "0",
            "PAPERSCOPE_ARXIV_API_DELAY": "0", "PAPERSCOPE_HF_DELAY": "0", "PAPERSCOPE_HTTP_RETRIES": "1"}


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> dict[str, Path]:
    return {"sample": tmp_path_factory.mktemp("sample") / "home", "updated": tmp_path_factory.mktemp("updated") / "home"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """The README's placeholder paths → files of the same kind: the snapshot sample, a BibTeX file, a small BEIR
    folder cut from SciFact (its first 40 documents and the queries whose relevant documents are among them)."""
    beir = tmp_path_factory.mktemp("beir") / "scifact"
    source = shared("beir", "scifact")
    (beir / "qrels").mkdir(parents=True)
    docs = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    (beir / "corpus.jsonl").write_text("\n".join(docs) + "\n", encoding="utf-8")
    kept = {json.loads(d)["_id"] for d in docs}
    split = next(p for p in sorted((source / "qrels").iterdir()) if p.suffix == ".tsv")
    rows = split.read_text(encoding="utf-8").splitlines()
    qrels = [r for r in rows[1:] if r.split("\t")[1] in kept]
    assert qrels
    (beir / "qrels" / split.name).write_text("\n".join([rows[0], *qrels]) + "\n", encoding="utf-8")
    wanted = {r.split("\t")[0] for r in qrels}
    queries = [q for q in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()
               if json.loads(q)["_id"] in wanted]
    (beir / "queries.jsonl").write_text("\n".join(queries) + "\n", encoding="utf-8")
    return {"arxiv-metadata-oai-snapshot.json": str(shared("arxiv-snapshot-sample.jsonl")),
            "my-zotero-export.bib": str(DATA / "library.bib"), "path/to/beir/scifact": str(beir),
            "--split": split.stem}


LINES = readme_lines()


@pytest.mark.parametrize("command", [c for c, _ in LINES], ids=[c.removeprefix("paperscope ")[:60] for c, _ in LINES])
def test_readme_example(command: str, homes: dict[str, Path], env: dict[str, str], files: dict[str, str],
                        new_sample_home: Callable[[], Path], tmp_path: Path) -> None:
    where, check = check_for(command)
    args = [files.get(a, a) for a in shlex.split(command)[1:]]
    if args[0] == "eval" and files["--split"] != "test":
        args += ["--split", files["--split"]]
    if where == "serve":
        if "--port" in args:
            i = args.index("--port")
            del args[i:i + 2]  # a free port instead of 8000
        with serving_process(new_sample_home(), env, *args[1:]) as (url, _proc):
            check(url)
    elif where == "demo":
        with running_demo(tmp_path / "home", env["PAPERSCOPE_HF_API_URL"], *args[1:]) as demo:
            check(demo.url)
    else:
        home = tmp_path / "home" if where == "own" else homes[where]
        check(cli(home, args, env))
