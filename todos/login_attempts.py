"""A bound on failed logins, per username + client address (THROTTLE_FAILED_LOGINS, e.g.
10 in 15 minutes), wherever a password is checked: `POST /api/auth/token`, the login page and
the admin's login all go through Django's `authenticate()`, so the check lives in the
authentication backend. Past the bound the backend raises `TooManyLoginAttempts`: DRF answers
it with 429 and Retry-After, and the middleware below does the same for the pages.

The client address is REMOTE_ADDR; behind a proxy, let the server set it from the forwarded
header (uvicorn --proxy-headers --forwarded-allow-ips=...). Counts live in the shared cache;
if it is unreachable, logins are not bounded rather than refused.
"""

import hashlib
import logging

import redis
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.deprecation import MiddlewareMixin
from rest_framework.exceptions import Throttled

from .api import throttling
from .request_log import note_user

logger = logging.getLogger(__name__)


class TooManyLoginAttempts(Throttled):
    default_detail = "Too many failed logins."
    extra_detail_plural = "Try again in {wait} seconds."
    extra_detail_singular = "Try again in {wait} second."


def _counter(request, username):
    limit, window = throttling.parse_rate(settings.THROTTLE_FAILED_LOGINS)
    address = (request.META.get("REMOTE_ADDR") if request is not None else None) or "-"
    who = hashlib.sha256(f"{username}\x00{address}".encode("utf-8", "surrogatepass")).hexdigest()
    now = throttling.clock()
    return throttling.window_key("failed-logins", who[:32], window, now), limit, window, now


class RateLimitedModelBackend(ModelBackend):
    """Django's ModelBackend, refusing to check passwords for a username + address that has
    failed too often lately."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        key, limit, window, now = _counter(request, username)
        try:
            failures = cache.get(key, 0)
        except redis.RedisError as exc:
            logger.warning("failed logins not bounded, cache unavailable: %r", exc)
            return super().authenticate(request, username, password, **kwargs)
        if failures >= limit:
            raise TooManyLoginAttempts(wait=max(1, round(window - now % window)))
        user = super().authenticate(request, username, password, **kwargs)
        try:
            if user is None:
                cache.add(key, 0, timeout=window + 1)
                cache.incr(key)
            elif failures:
                cache.delete(key)
        except (redis.RedisError, ValueError) as exc:  # ValueError: the window just expired
            logger.warning("failed login not counted: %r", exc)
        note_user(user)
        return user

    # A session's user is loaded here: the request's log line names it.
    def get_user(self, user_id):
        user = super().get_user(user_id)
        note_user(user)
        return user

    async def aget_user(self, user_id):
        user = await super().aget_user(user_id)
        note_user(user)
        return user

    @staticmethod
    def _username_field():
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


class TooManyLoginAttemptsMiddleware(MiddlewareMixin):
    """429 with Retry-After for the pages' login forms (DRF views answer it themselves)."""

    def process_exception(self, request, exception):
        if not isinstance(exception, TooManyLoginAttempts):
            return None
        response = HttpResponse(
            str(exception.detail), status=429, content_type="text/plain; charset=utf-8"
        )
        response["Retry-After"] = str(exception.wait)
        return response
