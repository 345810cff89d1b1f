from django.apps import AppConfig


class AccessProgrammeConfig(AppConfig):
    name = "access_programme"
    verbose_name = "Access programme (routes, batches, cycles, dispensing)"

    def ready(self) -> None:
        from access_programme import quality  # noqa: F401 - registers the missed-doses check
