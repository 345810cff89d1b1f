from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The clinicians' web pages: an adapter over the registry and access-programme services."""

    name = "clinic"
    verbose_name = "Clinic (web pages for site teams)"
