import pytest
from django.db import OperationalError

from config import health as health_module

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_database_and_broker_answer(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(health_module, "_database", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {
        "ok": False,
        "error": "OperationalError: could not connect to server",
    }
    assert body["broker"]["ok"]


def test_health_is_503_when_the_broker_does_not_answer(client, monkeypatch):
    class DeadBroker:
        def ping(self):
            raise ConnectionError("Connection refused")

    monkeypatch.setattr(health_module, "get_broker", DeadBroker)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"]["error"] == "ConnectionError: Connection refused"


def test_health_answers_head_with_the_status_and_no_body(client):
    response = client.head("/health/")
    assert response.status_code == 200
    assert response.content == b""


def test_health_answers_head_with_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(health_module, "_database", broken)
    assert client.head("/health/").status_code == 503


def test_health_refuses_writes(client):
    for method in (client.post, client.put, client.delete):
        response = method("/health/")
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"


@pytest.mark.redis
def test_health_reports_the_redis_broker(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert "Redis" in response.json()["broker"]["broker"]


@pytest.mark.postgres
def test_health_reports_postgresql(client):
    assert client.get("/health/").json()["database"]["engine"] == "postgresql"
