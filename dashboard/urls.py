from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.Today.as_view(), name="today"),
    path("search/", views.Search.as_view(), name="search"),
]
