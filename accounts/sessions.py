"""The idle timeout: a session ends SESSION_COOKIE_AGE after the user's last request.

Django slides the expiry only when the session is saved. Saving on every request
(SESSION_SAVE_EVERY_REQUEST) costs each page view an UPDATE of the session row and a second
committed, fsynced transaction; under load that was one write per page view for nothing. This
middleware saves the session when its last refresh is at least SESSION_REFRESH_SECONDS old, so
an idle session still ends between SESSION_COOKIE_AGE - SESSION_REFRESH_SECONDS and
SESSION_COOKIE_AGE after the last request (29-30 minutes by default), for one write a minute
per active user.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

#: Unix time of the last save that slid the expiry; kept in the session itself.
REFRESHED_AT_KEY = "_idle_timeout_refreshed_at"


class IdleTimeoutMiddleware:
    """Slide the session's expiry at most once every SESSION_REFRESH_SECONDS. After SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        refreshed_at = session.get(REFRESHED_AT_KEY, 0)  # loads it: an unknown or expired key empties it
        now = int(time.time())
        if not session.is_empty() and now - refreshed_at >= settings.SESSION_REFRESH_SECONDS:
            session[REFRESHED_AT_KEY] = now  # marks it modified: SessionMiddleware saves it
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in person and on every download.

    Pages of a signed-in user may show identities, and downloads hold patient data: neither may
    stay in a browser's or proxy's cache on a shared ward computer (issue 14, item 9). Static
    files are served before this (WhiteNoise) and keep their long cache lifetimes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        signed_in = request.user.is_authenticated or bool(request.META.get("HTTP_AUTHORIZATION"))
        if signed_in or response.get("Content-Disposition", "").startswith("attachment"):
            add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
        return response
