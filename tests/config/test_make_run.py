"""`make run`: the site and the task worker start together, and every way of stopping them
(Ctrl-C, SIGTERM to make, SIGTERM to make's whole process group as a process manager sends)
stops both within seconds."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)  # the virtualenv running these tests, as make would make it

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def local_environment(**extra):
    """The environment of a fresh clone: SQLite and the ORM broker, whatever this run uses."""
    names = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "MAKEFLAGS", "MFLAGS"}
    return {**{k: v for k, v in os.environ.items() if k not in names}, **extra}


@needs_make
def test_make_run_prints_every_address_with_the_host_and_port_it_was_given():
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"VENV={VENV}", "HOST=0.0.0.0", "PORT=8100"],
        cwd=PROJECT,
        env=local_environment(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "seed_demo --site-url http://0.0.0.0:8100" in result.stdout
    assert "runserver 0.0.0.0:8100" in result.stdout
    addresses = re.findall(r"https?://[^\s/\"']+", result.stdout)
    assert addresses
    assert set(addresses) == {"http://0.0.0.0:8100"}


def _parent_of(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(_parent_of(int(entry)), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


STOP_WITHIN_SECONDS = 15


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('make-run') / 'db.sqlite3'}"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=PROJECT,
        env=local_environment(DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    return url


def _wait_until(condition, *, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def _site_answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_make_run(database, log_path, port, *variables):
    """`make run` in a process group of its own, writing to `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            # `-o seed`: the database is migrated already; run only the recipe that serves.
            [
                "make",
                "--no-print-directory",
                "-o",
                "seed",
                "run",
                f"VENV={VENV}",
                f"PORT={port}",
                *variables,
            ],
            cwd=PROJECT,
            env=local_environment(DATABASE_URL=database, PYTHONUNBUFFERED="1"),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@needs_make
@needs_proc
@pytest.mark.parametrize(
    ("stop", "signum"),
    [
        pytest.param("group", signal.SIGTERM, id="sigterm-to-the-process-group"),
        pytest.param("make", signal.SIGTERM, id="sigterm-to-make-alone"),
        pytest.param("group", signal.SIGINT, id="ctrl-c"),
    ],
)
def test_stopping_make_run_stops_the_site_and_the_worker_within_seconds(
    database, tmp_path, stop, signum
):
    port = free_port()
    log_path = tmp_path / "make-run.log"
    make = start_make_run(database, log_path, port)
    started = []
    try:
        _wait_until(lambda: _site_answers(port), seconds=60, what="the site to answer")
        _wait_until(
            lambda: re.search(r"Q Cluster .* running\.", log_path.read_text()),
            seconds=60,
            what="the task worker to run",
        )
        started = _descendants(make.pid)
        # make, its shell, runserver and its reloader, and the cluster: main, sentinel,
        # two workers, monitor and pusher.
        assert len(started) >= 9, log_path.read_text()

        if stop == "group":
            os.killpg(make.pid, signum)
        else:
            make.send_signal(signum)
        # Promptly: well inside the 30 s and more the worker once hung for, with room for a
        # machine busy with other tests.
        deadline = time.monotonic() + STOP_WITHIN_SECONDS
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.1)

        still_running = [pid for pid in started if _alive(pid)]
        assert still_running == [], log_path.read_text()[-3000:]
        assert "stopping cluster processes" in log_path.read_text()
    finally:
        for pid in [make.pid, *started]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=10)


STUBBORN_WORKER = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("worker running, deaf to SIGTERM", flush=True)
time.sleep(120)
"""


@needs_make
@needs_proc
def test_a_worker_that_will_not_stop_is_killed_after_its_grace(database, tmp_path):
    """django-q2's cluster can hang while stopping: make run kills it after
    WORKER_STOP_SECONDS, every process of it, and says so."""
    worker = tmp_path / "stubborn_worker.py"
    worker.write_text(STUBBORN_WORKER)
    port = free_port()
    log_path = tmp_path / "make-run.log"
    make = start_make_run(database, log_path, port, f"WORKER={worker}", "WORKER_STOP_SECONDS=2")
    started = []
    try:
        _wait_until(lambda: _site_answers(port), seconds=60, what="the site to answer")
        _wait_until(
            lambda: "deaf to SIGTERM" in log_path.read_text(), seconds=30, what="the worker"
        )
        started = _descendants(make.pid)

        os.killpg(make.pid, signal.SIGTERM)
        deadline = time.monotonic() + 2 + STOP_WITHIN_SECONDS
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.1)

        assert [pid for pid in started if _alive(pid)] == [], log_path.read_text()[-3000:]
        assert "The task worker did not stop within 2 s: killing it." in log_path.read_text()
    finally:
        for pid in [make.pid, *started]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=10)
