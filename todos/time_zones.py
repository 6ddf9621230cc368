"""Each person's time zone: detected in the browser at signup and login, changeable on the
account page, and active for each of their page requests, so that "today", "overdue" and every
shown time are theirs. The API keeps UTC timestamps and plain dates (its paths are left alone)."""

import functools
import zoneinfo

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.utils import timezone

from .models import UserSettings

API_PREFIX = "/api/"


@functools.cache
def names():
    """Every IANA zone name this machine knows, sorted (the account page's choices)."""
    return sorted(zoneinfo.available_timezones())


@functools.cache
def _known():
    return frozenset(names())


def is_valid(name):
    return isinstance(name, str) and name in _known()


def zone_of(user):
    """The user's zone, or None for the default (settings.TIME_ZONE)."""
    if not user.is_authenticated:
        return None
    name = UserSettings.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return zoneinfo.ZoneInfo(name) if name and is_valid(name) else None


def remember(user, name):
    """Store a valid zone name as the user's; anything else is ignored (returns False)."""
    if not is_valid(name):
        return False
    UserSettings.objects.update_or_create(user=user, defaults={"time_zone": name})
    return True


class TimeZoneMiddleware:
    """Activates the signed-in user's zone for a page request (one primary-key read)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if request.path.startswith(API_PREFIX):
            return self.get_response(request)
        with timezone.override(zone_of(request.user)):
            return self.get_response(request)

    async def __acall__(self, request):
        if request.path.startswith(API_PREFIX):
            return await self.get_response(request)
        zone = await sync_to_async(zone_of)(request.user)
        with timezone.override(zone):
            return await self.get_response(request)
