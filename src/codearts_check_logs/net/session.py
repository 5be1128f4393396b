"""Sessions: no hidden retries, our User-Agent, and every socket reported to a `SocketTracker`
so that a cancel or a spent budget can shut it down from another thread."""

from __future__ import annotations

from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .. import __version__
from .cancel import CancelToken, ShutDown, SocketTracker
from .request_log import log_answer

USER_AGENT = f"codearts-check-logs/{__version__}"


class _Session(requests.Session):
    """A session that works out where a redirect leads only when it is to follow it.

    With `allow_redirects=False`, `requests` still computes the next hop: it reads the whole
    redirect body (an endless one would fill the memory) and decodes `Location` as UTF-8 (a
    non-UTF-8 byte raises UnicodeDecodeError from inside `send`). Clients that follow redirects
    by hand, or not at all, read `Location` themselves; those that let `requests` follow them
    get a redirect whose `Location` cannot be decoded back as the 3xx answer it is."""

    def __init__(self, *, follow_redirects: bool) -> None:
        super().__init__()
        self._follow_redirects = follow_redirects

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        if not self._follow_redirects:
            return None
        try:
            return super().get_redirect_target(resp)
        except UnicodeError:
            return None


def new_session(
    cancel: CancelToken, *, pool_size: int = 4, follow_redirects: bool = True
) -> tuple[requests.Session, SocketTracker]:
    """A session without hidden retries whose sockets `cancel` (and a watchdog) can shut down.
    `follow_redirects=False` for clients that never let `requests` follow one (see `_Session`)."""
    tracker = SocketTracker()
    cancel.watch(tracker)
    session = _Session(follow_redirects=follow_redirects)
    session.headers["User-Agent"] = USER_AGENT
    session.hooks["response"].append(log_answer)
    adapter = _TrackingAdapter(tracker, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, tracker


class _TrackingAdapter(HTTPAdapter):
    """Connection pools whose connections report each socket they open to one tracker."""

    def __init__(self, tracker: SocketTracker, *, pool_maxsize: int) -> None:
        self._tracker = tracker
        super().__init__(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _tracked_pools(self._tracker)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> urllib3.PoolManager:
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _tracked_pools(self._tracker)
        return manager


def _tracked_pools(tracker: SocketTracker) -> dict[str, type[HTTPConnectionPool]]:
    def tracked(base: type[HTTPConnection]) -> type[HTTPConnection]:
        def connect(self: HTTPConnection) -> None:
            base.connect(self)
            if self.sock is not None:
                tracker.add(self.sock)

        def getresponse(self: HTTPConnection) -> urllib3.HTTPResponse:
            response = base.getresponse(self)
            if tracker.closed:
                # Reads that were shut down end like a clean close: "HTTP/1.1 201 Cre" then
                # nothing still parses as a 201 without headers.
                response.close()
                raise ShutDown("the connection was shut down before its answer had arrived")
            return response

        return type(
            f"Tracked{base.__name__}", (base,), {"connect": connect, "getresponse": getresponse}
        )

    http_pool = type(
        "TrackedPool", (HTTPConnectionPool,), {"ConnectionCls": tracked(HTTPConnection)}
    )
    https_pool = type(
        "TrackedTLSPool", (HTTPSConnectionPool,), {"ConnectionCls": tracked(HTTPSConnection)}
    )
    return {"http": http_pool, "https": https_pool}
