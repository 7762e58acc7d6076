"""gunicorn.conf.py, and PeerPath served by a real gunicorn: what it answers and what it hides."""

import gc
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
CONFIG = PROJECT / "gunicorn.conf.py"


def test_a_gunicorn_worker_freezes_the_loaded_app_for_the_garbage_collector():
    post_worker_init = runpy.run_path(str(CONFIG))["post_worker_init"]
    before = gc.get_freeze_count()
    try:
        post_worker_init(worker=None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn serving PeerPath as the Procfile starts it (one worker, on a free port)."""
    port = free_port()
    folder = tmp_path_factory.mktemp("gunicorn")
    names = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    environment = {k: v for k, v in os.environ.items() if k not in names}
    # An empty database: the pages asked for here need no tables.
    environment["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    log = open(folder / "gunicorn.log", "wb")  # noqa: SIM115 (open for the server's life)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=PROJECT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (folder / "gunicorn.log").read_text()
            try:
                status, _ = request(port, "/accounts/login/")
                if status.startswith("HTTP/1.1 200"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (folder / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def request(port, target):
    """Sends one raw request line, so its length is exactly what the test says; gives back the
    status line and the headers (lower-case names)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head[0], headers


def target_of_length(request_line_length):
    """A path for /accounts/login/ whose request line (`GET <path> HTTP/1.1`) is that long."""
    start = "/accounts/login/?next=/"
    return start + "a" * (request_line_length - len(f"GET {start} HTTP/1.1"))


def test_gunicorn_does_not_say_what_it_is(gunicorn):
    status, headers = request(gunicorn, "/accounts/login/")
    assert status == "HTTP/1.1 200 OK"
    assert "server" not in headers
    assert headers["content-type"].startswith("text/html")


def test_pages_served_by_gunicorn_carry_the_security_headers(gunicorn):
    _, headers = request(gunicorn, "/accounts/login/")
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_a_request_line_of_4094_bytes_is_served_and_a_longer_one_is_414(gunicorn):
    assert runpy.run_path(str(CONFIG))["limit_request_line"] == 4094
    status, _ = request(gunicorn, target_of_length(4094))
    assert status == "HTTP/1.1 200 OK"
    status, headers = request(gunicorn, target_of_length(4095))
    assert status == "HTTP/1.1 414 URI Too Long"
    assert "server" not in headers
