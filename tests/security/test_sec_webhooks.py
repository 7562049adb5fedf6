"""Point 5: webhook SSRF guard at save time (through /settings/digest) and at send time."""

from __future__ import annotations

import json

import pytest
from realserver import csrf, signup

from paperscope.errors import UsageError
from paperscope.netguard import check_webhook, post_json
from serving import serving

INSIDE = ["http://127.0.0.1:8000/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
          "http://[::1]/", "http://localhost/x", "http://0.0.0.0/", "http://[fd00::1]/", "http://192.168.1.1/",
          "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "file:///etc/passwd",
          "gopher://127.0.0.1/", "http://user:pw@127.0.0.1/"]


def test_inside_addresses_are_refused_when_saved(home):
    with serving(home) as url:
        ada = signup(url, "hooks@example.org")
        for hook in INSIDE:
            r = ada.post(url + "/settings/digest", data={"frequency": "weekly", "size": "5", "webhook": hook,
                                                         "csrf": csrf(ada, url + "/settings")}, timeout=30)
            assert r.status_code == 400, hook
            assert "webhook" in r.text.lower()
            assert 'name="webhook" value=""' in ada.get(url + "/settings", timeout=10).text  # nothing was saved


def test_the_allow_list_admits_a_lab_hook(home, server):
    with serving(home, webhook_allow="127.0.0.1") as url:
        ada = signup(url, "labhook@example.org")
        hook = server.url + "/hook"
        r = ada.post(url + "/settings/digest", data={"frequency": "weekly", "size": "5", "webhook": hook,
                                                     "csrf": csrf(ada, url + "/settings")}, timeout=30)
        assert r.status_code == 200 and server.url + "/hook" in r.text
        r = ada.post(url + "/settings/digest", data={"frequency": "weekly", "size": "5",
                                                     "webhook": "http://169.254.169.254/",
                                                     "csrf": csrf(ada, url + "/settings")}, timeout=30)
        assert r.status_code == 400


def test_send_time_check_no_redirects_capped_answer(server, settings, store, fake_embedder):
    with pytest.raises(UsageError):
        post_json(server.url + "/hook", b"{}")  # saved earlier, the allow list changed since: refused at send
    assert server.posts == []
    assert post_json(server.url + "/hook", b"{}", allow="127.0.0.0/8") == 200 and len(server.posts) == 1
    assert check_webhook("http://hooks.example:8080/x?y=1", resolve=False).path == "/x?y=1"


def test_redirects_are_not_followed(tmp_path):
    import http.server
    import threading

    hits: list[str] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest")
            self.send_header("Content-Length", str(1_000_000))
            self.end_headers()
            self.wfile.write(b"x" * 1_000_000)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        status = post_json(f"http://127.0.0.1:{httpd.server_address[1]}/hook", json.dumps({}).encode(),
                           allow="127.0.0.1")
        assert status == 307 and hits == ["/hook"]
    finally:
        httpd.shutdown()
