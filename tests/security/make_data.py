"""Writes the hostile files in data/ (committed; re-run only to change them): one file per case of issue 11."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
GOOD = {"id": "good-1", "title": "Robust Ingestion of Scholarly Metadata", "published": "2024-03-01",
        "abstract": "A good record that must survive next to hostile ones.", "authors": ["Grace Hopper"],
        "categories": "cs.DL", "url": "https://example.org/good"}


def lines(name: str, records: list[object]) -> None:
    (DATA / name).write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
                             encoding="utf-8")


def main() -> None:
    DATA.mkdir(exist_ok=True)
    lines("links.jsonl", [
        {"id": "links-1", "title": "Links of every scheme", "url": "javascript:alert(1)",
         "pdf": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "code": "JaVaScRiPt:alert(2)",
         "project": "java\tscript:alert(3)"},
        {"id": "links-2", "title": "Relative and odd links", "url": "/etc/passwd", "pdf": "vbscript:msgbox(1)",
         "code": "https://github.com/example/ok"},
        GOOD,
    ])
    lines("dates.jsonl", [
        {"id": "dates-zero", "title": "Year zero", "published": "0000"},
        {"id": "dates-overflow", "title": "Overflowing date", "published": "9999-12-31T23:59:59-23:59",
         "updated": "Mon, 01 Jan 99999999999 00:00:00 +0000"},
        {"id": "dates-future", "title": "From the future", "published": "2099-01-01"},
        {"id": "dates-classic", "title": "A 1950 classic", "published": "1950-10-01"},
        GOOD,
    ])
    lines("controls.jsonl", [
        {"id": "ctl-1", "title": "Control\x00char\x07acters\x1b[31m in a \x0btitle\ud800",
         "abstract": "Bell \x07 and form feed \x0c and DEL \x7f and C1 \x85\x9b.", "authors": ["Eve\x00 Evil"],
         "comments": "x" * 50000},
        {"id": "ctl-2", "title": "\x00\x01\x02"},
        GOOD,
    ])
    lines("categories.jsonl", [
        {"id": f"cats-{i}", "title": f"Category flood {i}", "categories": [f"flood.c{i}x{j}" for j in range(250)]}
        for i in range(160)
    ] + [GOOD])
    lines("nesting.jsonl", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 50_000 + "1" + "}" * 50_000, GOOD])
    lines("garbage.jsonl", ["not json at all", "{\"broken\": ", "[1, 2, 3]", "{\"no\": \"title\"}"])
    lines("hostile.jsonl", [
        {"id": "hostile-1", "title": "Hostile \x00record\x07 with <script>alert(1)</script>",
         "abstract": "Carries javascript, data and future dates.", "url": "javascript:alert(1)",
         "pdf": "data:text/html,<script>alert(1)</script>", "code": "JaVaScRiPt:alert(1)",
         "published": "2099-06-01", "categories": "cs.CR"},
        {"id": "hostile-zero", "title": "Year zero again", "published": "0000-00-00"},
        {"id": "hostile-overflow", "title": "Overflow again", "published": "9999-12-31T23:59:59-23:59"},
        *({"id": f"hostile-cats-{i}", "title": f"Flood {i}", "categories": [f"h{i}.c{j}" for j in range(250)]}
          for i in range(160)),
        "[" * 100_000,
        GOOD,
    ])
    header = "title,abstract,authors,published\n"
    rows = ("Économie des données,Résumé en français,Zoë Müller; José Núñez,2023-04-01\n"
            "Second café paper,Straße und Größe,Jürgen Groß,2023-04-02\n")
    (DATA / "latin1.csv").write_bytes((header + rows).encode("latin-1"))
    (DATA / "cp1252.csv").write_bytes((header + "Smart “quotes” — and €uros,Abstract,Ann Ó Brien,2023-05-01\n")
                                      .encode("cp1252"))
    (DATA / "oversize.csv").write_text(header + "Before the big one,a,A. One,2022-01-01\n"
                                       + f'Oversize,"{"x" * 2_000_000}",B. Two,2022-01-02\n'
                                       + "After the big one,c,C. Three,2022-01-03\n", encoding="utf-8")
    (DATA / "classic.bib").write_text(
        "@article{turing1950,\n  title = {Computing Machinery and Intelligence},\n  author = {Turing, Alan},\n"
        "  journal = {Mind},\n  year = {1950},\n  month = oct,\n  url = {javascript:alert(1)},\n}\n\n"
        "@misc{broken,\n  title = {Unclosed\n\n"
        "@misc{future2099,\n  title = {A Paper From 2099},\n  year = {2099},\n}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
