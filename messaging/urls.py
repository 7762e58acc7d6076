from django.urls import path

from messaging import webhooks

app_name = "messaging"

urlpatterns = [
    path("twilio/inbound/", webhooks.inbound, name="twilio-inbound"),
    path("twilio/status/", webhooks.status, name="twilio-status"),
]
