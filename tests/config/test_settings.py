"""Settings come from the environment; production refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

from tests.config.fresh_process import printed

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3v9-Qz7pL2xW8mN4rT6yB1cF5hJ0dS9aG3eU7iO2wK8nM4vX6zC1qR5tY9uP3lE",
    "ALLOWED_HOSTS": "peerpath.example.org",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_a_secret_key_refuses_to_start_and_says_why():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="peerpath.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_switch_is_refused_by_name():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be 1 or 0" in result.stderr


def settings_seen_with(**env):
    return printed(
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.Q_CLUSTER.get('redis') or 'orm',"
        " s.DEBUG, s.TIME_ZONE, s.USE_TZ)",
        **env,
    ).split()


def test_with_nothing_set_peerpath_runs_locally():
    assert settings_seen_with() == [
        "django.db.backends.sqlite3",
        "orm",
        "True",
        "Europe/London",
        "True",
    ]


def test_database_url_selects_postgresql_and_redis_url_the_redis_broker():
    seen = settings_seen_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert seen[:2] == ["django.db.backends.postgresql", "redis://127.0.0.1:6379/0"]


def test_earlier_secret_keys_are_read_newest_first_for_a_rotation():
    seen = printed(
        "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)",
        SECRET_KEY_FALLBACKS=" newer-key , older-key ,",
    )
    assert seen.strip() == "['newer-key', 'older-key']"
