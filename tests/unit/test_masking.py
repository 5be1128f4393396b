"""The secret registry: every registered value (and its URL-encoded twins) is scrubbed; listeners
hear of each new secret once."""

from __future__ import annotations

from urllib.parse import quote

from codearts_check_logs import masking


def test_values_and_their_url_encoded_twins_are_scrubbed() -> None:
    masking.register("a+b/c=")
    assert masking.redact(f"x a+b/c= y {quote('a+b/c=', safe='')} z") == "x *** y *** z"


def test_longer_secrets_are_scrubbed_before_the_secrets_they_contain() -> None:
    masking.register("abcdefgh")
    masking.register("abcdefgh-and-more")
    assert masking.redact("abcdefgh-and-more") == "***"


def test_listeners_hear_each_new_secret_once() -> None:
    heard: list[str] = []
    masking.on_register(heard.append)
    masking.register("first-secret")
    masking.register("first-secret")
    masking.register("")
    masking.register("second-secret")
    assert heard == ["first-secret", "second-secret"]
