"""The project's URLs plus the plain views that bench/api.py measures the API against.
Only bench/api_settings.py uses this URL conf."""

from django.urls import path

from bench.plain_my_sessions import plain_my_sessions
from bench.plain_sessions import plain_sessions
from bench.plain_volunteers import plain_volunteers
from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/plain-volunteers/", plain_volunteers, name="bench-plain-volunteers"),
    path("bench/plain-sessions/", plain_sessions, name="bench-plain-sessions"),
    path("bench/plain-my-sessions/", plain_my_sessions, name="bench-plain-my-sessions"),
    *project_urlpatterns,
]
