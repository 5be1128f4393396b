"""The secret registry: every registered value (and its URL-encoded twins) is scrubbed; listeners
hear of each new secret once."""

from __future__ import annotations

from urllib.parse import quote

from codearts_check_logs import secrets


def test_values_and_their_url_encoded_twins_are_scrubbed() -> None:
    secrets.register("a+b/c=")
    assert secrets.redact(f"x a+b/c= y {quote('a+b/c=', safe='')} z") == "x *** y *** z"


def test_longer_secrets_are_scrubbed_before_the_secrets_they_contain() -> None:
    secrets.register("abcdefgh")
    secrets.register("abcdefgh-and-more")
    assert secrets.redact("abcdefgh-and-more") == "***"


def test_listeners_hear_each_new_secret_once() -> None:
    heard: list[str] = []
    secrets.on_register(heard.append)
    secrets.register("first-secret")
    secrets.register("first-secret")
    secrets.register("")
    secrets.register("second-secret")
    assert heard == ["first-secret", "second-secret"]
