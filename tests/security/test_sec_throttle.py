"""Point 3: failed sign-ins meet HTTP 429 with Retry-After, per account and per client address."""

from __future__ import annotations

from realserver import login, signup

from serving import serving


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


def test_lock_outs_double_and_success_clears():
    from paperscope.throttle import FailureLimiter, RateLimiter

    limiter = FailureLimiter(limit=3, window=60)
    assert [limiter.fail("k", now=t) for t in (0, 1, 2)] == [0, 0, 60]
    assert limiter.wait("k", now=30) == 32 and limiter.wait("k", now=62) == 0
    assert [limiter.fail("k", now=t) for t in (70, 71, 72)][-1] == 120  # the second lock-out doubles
    limiter.succeed("k")
    assert limiter.wait("k", now=73) == 0 and limiter.fail("k", now=74) == 0
    assert limiter.wait("other", now=0) == 0  # keys are independent
    rate = RateLimiter()
    assert [rate.take("t", 2, now=0) for _ in range(3)] == [0, 0, 30]  # 2 a minute: the third waits 30 s
    assert rate.take("t", 2, now=31) == 0 and rate.take("t", 0, now=31) == 0  # 0 = unlimited
