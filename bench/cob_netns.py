"""A worker host of its own for the close-of-business benchmark: a network namespace and a veth link.

`netns_link()` creates namespace `fqcob` with one end of a veth pair (10.231.0.2/24) and keeps the other
end (10.231.0.1/24) on the host, then relays TCP from 10.231.0.1:PORT to the PostgreSQL the benchmark
uses (socat). A worker started with `in_netns()` sees only that link: it reaches the database over the
veth and the relay as it would reach a PostgreSQL on another host, and shares nothing local with the
other workers but the queue in the database. The relay stands in for PostgreSQL's own listen address
on a host where the server listens on 127.0.0.1 only and is shared (it cannot be restarted here).

Needs root (`ip netns add`); everything is removed afterwards, also when the run fails.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

NS, HOST_IF, NS_IF = "fqcob", "fqveth0", "fqveth1"
HOST_IP, NS_IP = "10.231.0.1", "10.231.0.2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _cleanup() -> None:
    for args in (("link", "del", HOST_IF), ("netns", "del", NS)):
        subprocess.run(["ip", *args], capture_output=True)


@contextlib.contextmanager
def netns_link(database_url: str, relay_port: int) -> Iterator[str]:
    """Set up the namespace and the relay; yields the database URL as seen from inside the namespace."""
    if shutil.which("socat") is None:
        raise RuntimeError("socat is missing: apt-get install socat")
    parts = urlsplit(database_url)
    pg_host, pg_port = parts.hostname or "127.0.0.1", parts.port or 5432
    _cleanup()
    relay = None
    try:
        _ip("netns", "add", NS)
        _ip("link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        _ip("link", "set", NS_IF, "netns", NS)
        _ip("addr", "add", f"{HOST_IP}/24", "dev", HOST_IF)
        _ip("link", "set", HOST_IF, "up")
        _ip("netns", "exec", NS, "ip", "addr", "add", f"{NS_IP}/24", "dev", NS_IF)
        _ip("netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
        _ip("netns", "exec", NS, "ip", "link", "set", "lo", "up")
        relay = subprocess.Popen(["socat", f"TCP-LISTEN:{relay_port},bind={HOST_IP},fork,reuseaddr",
                                  f"TCP:{pg_host}:{pg_port}"])
        time.sleep(0.5)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        inside = urlunsplit(parts._replace(netloc=f"{auth}{HOST_IP}:{relay_port}"))
        # The link works before any worker relies on it: a TCP connection from inside the namespace.
        _ip("netns", "exec", NS, sys.executable, "-c",
            f"import socket; socket.create_connection(('{HOST_IP}', {relay_port}), 5).close()")
        print(f"  netns {NS}: worker at {NS_IP} reaches PostgreSQL at {HOST_IP}:{relay_port} over {NS_IF}↔{HOST_IF}")
        yield inside
    finally:
        if relay is not None:
            relay.terminate()
            relay.wait(timeout=10)
        _cleanup()


def in_netns(command: list[str]) -> list[str]:
    return ["ip", "netns", "exec", NS, *command]
