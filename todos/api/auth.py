"""Token authentication that runs on the event loop, with each token's user remembered briefly."""

import time

from django.conf import settings
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from ..request_log import note_user
from ..selectors import auser_for_token

_users_by_token = {}  # key -> (user, monotonic expiry); per process
MAX_REMEMBERED = 10_000


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication, plus `aauthenticate` for async views.

    A token's user is remembered for API_TOKEN_CACHE_SECONDS in each worker process, which saves
    a query on most requests; a revoked token or deactivated user stops working within that time
    (at once in the worker that revoked it, see `forget_token`).
    """

    async def aauthenticate(self, request):
        key = self.key_from_header(request)
        if key is None:
            return None
        user = await self.user_for_key(key)
        return user, Token(key=key, user=user)

    def authenticate_credentials(self, key):  # DRF's sync path (sync views)
        user, token = super().authenticate_credentials(key)
        note_user(user)
        return user, token

    def key_from_header(self, request):
        """The same header rules as DRF's `authenticate`."""
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) == 1:
            raise AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(auth) > 2:
            raise AuthenticationFailed(
                "Invalid token header. Token string should not contain spaces."
            )
        try:
            return auth[1].decode()
        except UnicodeError:
            raise AuthenticationFailed(
                "Invalid token header. Token string should not contain invalid characters."
            ) from None

    async def user_for_key(self, key):
        now = time.monotonic()
        remembered = _users_by_token.get(key)
        if remembered and remembered[1] > now:
            note_user(remembered[0])
            return remembered[0]
        user = await auser_for_token(key)
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if len(_users_by_token) >= MAX_REMEMBERED:
            _users_by_token.clear()
        _users_by_token[key] = (user, now + settings.API_TOKEN_CACHE_SECONDS)
        note_user(user)
        return user


def forget_token(key):
    _users_by_token.pop(key, None)
