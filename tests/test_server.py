"""The real `paperscope serve` process over HTTP on loopback (real model, real indexes)."""

from __future__ import annotations

import requests


def test_real_server_answers_search_daily_paper_and_errors(server_url):
    s = requests.get(server_url + "/api/search", params={"q": "binary embeddings for retrieval"}, timeout=30).json()
    assert s["hits"][0]["paper"]["id"] == "2405.00001" and s["hits"][0]["reason"] == "both"
    daily = requests.get(server_url + "/api/daily_papers", params={"date": "2024-05-01"}, timeout=10).json()
    assert [d["paper"]["id"] for d in daily] == ["2405.00001", "2405.00002"]  # by upvotes
    paper = requests.get(server_url + "/api/papers/arxiv:0704.0001", timeout=10).json()
    assert paper["versions"][1]["version"] == "v2"
    missing = requests.get(server_url + "/api/papers/0000.00000", timeout=10)
    assert missing.status_code == 404 and missing.json()["code"] == "NotFoundError"
    html = requests.get(server_url + "/", timeout=10)
    assert html.status_code == 200 and "<script>alert" not in html.text
    assert requests.get(server_url + "/docs", timeout=10).status_code == 200
