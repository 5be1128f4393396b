"""A tracked session for the one-attempt tests of the log-file client and its answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.session import new_session


@pytest.fixture
def session() -> Iterator[requests.Session]:
    made, _tracker = new_session(CancelToken())
    with made:
        yield made
