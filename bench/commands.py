"""What the benchmarks share: running manage.py in a subprocess, and reading --sizes."""

import argparse
import subprocess
import sys
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


def sizes(text):
    """An argparse type: a comma-separated list of whole numbers of at least 1."""
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a list like 1000,10000.") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("Give one or more sizes of at least 1.")
    return values
