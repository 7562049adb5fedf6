"""Citations: who cites what, from OpenAlex and Semantic Scholar, stored once and shown where papers are ranked.

`records` holds what a source says about a paper (imported by the sources, so it imports nothing above L1);
`enrich` runs `paperscope ingest openalex` / `ingest semantic-scholar` over the store's papers; the SQL lives in
`store/citations.py` (shared by both backends)."""

CITATION_SOURCES = ("openalex", "semantic-scholar")
