from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    """The pharmacists' web pages: an adapter over the access-programme services."""

    name = "pharmacy"
    verbose_name = "Pharmacy (web pages for dispensing and batches)"
