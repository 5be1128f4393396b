#!/usr/bin/env python3
"""The CodeArts Check simulator behind TLS, for workflows that run the action's container.

A container action runs on Docker's bridge network, so it cannot reach a server on the
runner's loopback, and the action sends its token over plain http:// only to loopback
hosts. This starts the simulator on 127.0.0.1 and a TLS front for it on an address the
container can reach (the bridge's gateway), with a throwaway CA that the step hands to
the container as REQUESTS_CA_BUNDLE. It writes into --dir:

    ca.pem            the CA certificate (trust it with REQUESTS_CA_BUNDLE)
    endpoint          https://<bind>:<port>, the TLS front
    loopback          http://127.0.0.1:<port>, the simulator itself
    ready             written last, once both accept connections

and serves until it is terminated. Used by .github/workflows/self-test.yml:

    python -m tools.selftest_server --bind 172.17.0.1 --dir .selftest --token TOKEN &

(run from the repository root, so that `devtools` is importable).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import select
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
from pathlib import Path

from devtools.doubles.codearts import Simulator


def make_certificates(directory: Path, address: str) -> tuple[Path, Path]:
    """A CA, and a server certificate for `address` signed by it; returns (cert, key)."""
    san = f"IP:{address}" if _is_ip(address) else f"DNS:{address}"
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName={san}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n",
        encoding="utf-8",
    )
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=codearts-check-logs self-test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-keyout", "ca.key", "-out", "ca.pem"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=codearts-check simulator",
         "-keyout", "server.key", "-out", "server.csr"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem"],
    ]  # fmt: skip
    for step in steps:
        subprocess.run(["openssl", *step], cwd=directory, check=True, capture_output=True)
    return directory / "server.pem", directory / "server.key"


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


class TlsFront(socketserver.ThreadingTCPServer):
    """Terminates TLS and relays the bytes to the simulator, one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, bind: str, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        self.upstream = upstream
        self.context = context
        super().__init__((bind, 0), _Relay)


class _Relay(socketserver.BaseRequestHandler):
    server: TlsFront

    def handle(self) -> None:
        try:
            client = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with client, socket.create_connection(self.server.upstream, timeout=30) as upstream:
            peers: dict[socket.socket, socket.socket] = {client: upstream, upstream: client}
            while True:
                ready: list[socket.socket] = [client] if client.pending() else []
                if not ready:
                    ready, _, _ = select.select(list(peers), [], [], 120)
                if not ready:
                    return
                for source in ready:
                    try:
                        data = source.recv(65536)
                    except (ssl.SSLError, OSError):
                        return
                    if not data:
                        return
                    peers[source].sendall(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bind", required=True, help="address for the TLS front")
    parser.add_argument("--dir", type=Path, required=True, help="where to write the files")
    parser.add_argument("--token", required=True, help="token the simulator accepts")
    args = parser.parse_args(argv)

    directory: Path = args.dir
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ready").unlink(missing_ok=True)
    cert, key = make_certificates(directory, args.bind)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Simulator(token=args.token) as sim:
        host, port = sim.base_url.removeprefix("http://").rsplit(":", 1)
        front = TlsFront(args.bind, (host, int(port)), context)
        threading.Thread(target=front.serve_forever, daemon=True).start()
        front_port = front.server_address[1]
        shown = f"[{args.bind}]" if ":" in args.bind else args.bind
        (directory / "endpoint").write_text(f"https://{shown}:{front_port}\n", encoding="utf-8")
        (directory / "loopback").write_text(f"{sim.base_url}\n", encoding="utf-8")
        (directory / "ready").write_text("ready\n", encoding="utf-8")
        print(f"simulator {sim.base_url}, TLS front https://{shown}:{front_port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        front.shutdown()
        front.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
