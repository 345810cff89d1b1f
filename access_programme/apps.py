from django.apps import AppConfig


class AccessProgrammeConfig(AppConfig):
    name = "access_programme"
    verbose_name = "Access programme (routes, batches, cycles, dispensing)"
