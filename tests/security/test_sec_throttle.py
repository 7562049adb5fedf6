"""Point 3: failed sign-ins meet HTTP 429 with Retry-After, per account and per client address."""

from __future__ import annotations

from realserver import login, serving, signup


def test_thirty_wrong_passwords_meet_429(home):
    with serving(home) as url:
        signup(url, "target@example.org")
        answers = [login(url, "target@example.org", f"guess number {i}") for i in range(30)]
        codes = [r.status_code for r in answers]
        assert codes[:5] == [401] * 5 and 429 in codes
        limited = answers[codes.index(429)]
        assert int(limited.headers["Retry-After"]) > 0 and "too many" in limited.text.lower()
        # the right password does not get through while the account is locked out
        assert login(url, "target@example.org").status_code == 429


def test_many_accounts_from_one_address_meet_429(home):
    with serving(home, login_limit="100") as url:
        codes = [login(url, f"nobody{i}@example.org", "whatever123").status_code for i in range(25)]
        assert codes[0] == 401 and codes[-1] == 429
