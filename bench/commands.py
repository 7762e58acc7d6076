"""What the benchmarks share: running manage.py or a benchmark's own child step in a
subprocess, reading --sizes, and how busy the machine is."""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def manage(*arguments, environment):
    """Run manage.py with `environment`; return its output, or stop with its error."""
    finished = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
    )
    if finished.returncode != 0:
        sys.exit(f"manage.py {' '.join(arguments)} failed:\n{finished.stderr}")
    return finished.stdout


def child_result(script, kind, *, env, extra=(), show_output=False):
    """Run `script --child kind` (a benchmark's step in a process of its own, so each starts
    with a fresh connection and its own settings) and return the JSON of its last line; any
    lines before it are printed when `show_output`. A failed step stops the benchmark."""
    finished = subprocess.run(
        [sys.executable, str(script), "--child", kind, *extra],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    if finished.returncode != 0:
        sys.exit(f"The {kind} step failed:\n{finished.stderr[-4000:]}")
    lines = finished.stdout.strip().splitlines()
    if show_output and len(lines) > 1:
        print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


def sizes(text):
    """An argparse type: a comma-separated list of whole numbers of at least 1."""
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a list like 1000,10000.") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("Give one or more sizes of at least 1.")
    return values


def others_busy(seconds=2):
    """The share of all CPUs' time in use over `seconds`, from Linux's /proc/stat; None
    elsewhere."""

    def sample():
        numbers = [int(field) for field in Path("/proc/stat").read_text().split()[1:9]]
        idle = numbers[3] + numbers[4]  # idle and iowait
        return sum(numbers), idle

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError):
        return None
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total else None


def say_how_busy():
    """Print how busy the machine is before a benchmark starts, with a warning when other
    work would make the times high and noisy."""
    busy = others_busy()
    if busy is not None:
        print(f"Before starting, {busy:.0%} of the CPUs' time is in use by other work.")
        if busy > 0.15:
            print("Warning: the machine is busy, so the times will be high and noisy.")
