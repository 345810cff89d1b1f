from django.apps import AppConfig


class AccessProgrammeConfig(AppConfig):
    name = "access_programme"
    verbose_name = "Access programme (routes, batches, cycles, dispensing)"

    def ready(self) -> None:
        from access_programme import quality  # noqa: F401 - registers the missed-doses check
        from access_programme.next_due import next_due_refresh
        from registry.follow_up import on_follow_up_change

        # A patient who leaves follow-up (or resumes it) gets their next due dates cleared (or back);
        # a new or corrected ALSFRS-R assessment moves the next one.
        on_follow_up_change(next_due_refresh)
