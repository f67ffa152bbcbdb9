"""Start LocalStack (community, host mode: no Docker) as the second local AWS of the tests.

Run by tests/it/support/localstack.rs with the LocalStack venv's python (.venv-localstack, installed
by scripts/test from scripts/requirements-localstack.txt):

    python tests/it/support/localstack_launcher.py STATE_DIR

STATE_DIR is an empty folder the harness owns (and removes): LocalStack's files go there.

The same protocol as moto_launcher.py: it picks a free 127.0.0.1 port, prints exactly one line
``PORT=<n>`` on stdout once LocalStack answers requests, and exits by itself when its stdin
reaches EOF, so a crashed or killed test process never leaves a server behind. Diagnostics go to
stderr.

Unlike the moto launcher it patches nothing: LocalStack is the independent check on what the
moto launcher's patches claim, so it runs as shipped. Only its configuration is set, before
LocalStack's config module is imported (it reads the environment once):

* GATEWAY_LISTEN: the free loopback port; nothing listens on other addresses.
* FILESYSTEM_ROOT and a per-server temp folder, PERSISTENCE=0, OVERRIDE_IN_DOCKER=0: each
  server keeps its state in memory and its files in its own temp folder (LocalStack detects a
  container from /.dockerenv and would otherwise use /var/lib/localstack for every server).
* SERVICES: only what the tool and the tests call, loaded lazily (loading them eagerly made
  start-up slower than the first calls that load them).
* GATEWAY_SERVER=hypercorn: LocalStack's default (twisted) gateway listens on every interface
  whatever GATEWAY_LISTEN says; hypercorn binds the loopback address given.
* No network beyond the loopback port: no DNS server, no certificate download, no analytics.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# What S3 Provisioner calls (STS, S3, CloudFormation) and what its templates create (SSM
# parameters). EC2 (for a site with a VPC endpoint) is left out: the seed guide's configs have
# none, and every service more costs start-up time.
SERVICES = "cloudformation,s3,sts,ssm"

# How long LocalStack may take to answer its health check before the launcher gives up.
STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    """A loopback port nothing listens on now (LocalStack binds it itself a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(port: int, root: str) -> None:
    os.environ.update(
        {
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "LOCALSTACK_HOST": f"127.0.0.1:{port}",
            "FILESYSTEM_ROOT": root,
            "OVERRIDE_IN_DOCKER": "0",
            "PERSISTENCE": "0",
            "SERVICES": SERVICES,
            "EAGER_SERVICE_LOADING": "0",
            "GATEWAY_SERVER": "hypercorn",
            "DNS_ADDRESS": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "LS_LOG": "warn",
        }
    )


def exit_on_stdin_eof() -> None:
    """The test harness holds our stdin open; when it exits or crashes, stdin hits EOF."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def announce_when_ready(port: int, stdout: int) -> None:
    """Print PORT= once every service in SERVICES reports itself available or running."""
    url = f"http://127.0.0.1:{port}/_localstack/health"
    wanted = set(SERVICES.split(","))
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                states = json.load(answer).get("services", {})
            if all(states.get(name) in ("available", "running") for name in wanted):
                os.write(stdout, f"PORT={port}\n".encode())
                os.close(stdout)
                return
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.1)
    sys.stderr.write(f"LocalStack did not become ready within {STARTUP_TIMEOUT_S:.0f} s\n")
    sys.stderr.flush()
    os._exit(1)


def main() -> None:
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: localstack_launcher.py STATE_DIR (an existing, empty folder)")
    port = free_port()
    configure(port, os.path.abspath(sys.argv[1]))
    # LocalStack prints its banner to stdout: the harness's stdout carries the PORT= line alone,
    # so keep a handle on it and send everything else on fd 1 to stderr.
    harness_stdout = os.dup(1)
    os.dup2(2, 1)
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    threading.Thread(target=announce_when_ready, args=(port, harness_stdout), daemon=True).start()
    # LocalStack's own entry point (what `localstack start --host` runs); it must own the main
    # thread for its signal handlers.
    from localstack.runtime.main import main as localstack_main

    localstack_main()


if __name__ == "__main__":
    main()
