"""Django's set-up with the cyclic garbage collector paused, its objects frozen once it is done.

Setting Django up builds some hundred thousand objects that live as long as the process (modules,
classes, models' fields, URL patterns); the collector, run every 700 allocations, scans them again
and again and finds no garbage: about a seventh of `manage.py check`'s CPU (docs/benchmarks.md,
"Start-up"). The programs that set Django up (manage.py, config.wsgi) pause it first; once every
app is ready (config.apps, the last installed app) the objects made so far are frozen, left out of
every later collection, and the collector runs again for what the command or worker allocates.
This is the start-up use the Python documentation gives for `gc.freeze()`. A program that did not
pause the collector (tests, Celery) keeps it as it had it.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Before Django's set-up: no cyclic collection until `resume_collector`."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """Once the apps are ready: freeze what set-up built and collect again, if this module paused."""
    global _paused
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False
