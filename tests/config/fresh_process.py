"""What a fresh PeerPath process prints, started with a given environment: how the settings
read the environment can only be seen from a process that reads it anew."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
# Read from this process's environment unless a test gives them.
SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "DATABASE_PREPARED_QUERIES",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
}


def printed(code, **env):
    """The output of `code`, run after django.setup() with the project's settings."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=PROJECT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
