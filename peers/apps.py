from django.apps import AppConfig


class PeersConfig(AppConfig):
    name = "peers"
    verbose_name = "People in recovery"
