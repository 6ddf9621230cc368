"""Token authentication that runs on the event loop, with each token's user remembered briefly."""

import time
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from ..request_log import note_user
from ..selectors import auser_for_token

_users_by_token = {}  # key -> (user, monotonic expiry); per process
MAX_REMEMBERED = 10_000
_clock = time.monotonic  # tests move it forward instead of sleeping


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication, plus `aauthenticate` for async views.

    A token's user is remembered for API_TOKEN_CACHE_SECONDS in each worker process, which saves
    a query on most requests; a revoked token, a deleted or changed user (deactivated, no longer
    staff) counts within that time, and at once in the worker that made the change (see
    `forget_deleted_token` and `forget_changed_user`).
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
        """DRF's header rules (its `authenticate`), and a 401 for a Bearer token and for control
        characters in the key."""
        auth = get_authorization_header(request).split()
        if auth and auth[0].lower() == b"bearer":  # the scheme of OAuth, a common guess
            raise AuthenticationFailed(
                "Invalid token header. This API takes 'Authorization: Token <key>', not Bearer."
            )
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        if len(auth) == 1:
            raise AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(auth) > 2:
            raise AuthenticationFailed(
                "Invalid token header. Token string should not contain spaces."
            )
        try:
            key = auth[1].decode()
        except UnicodeError:
            key = None
        if key is None or not key.isprintable():  # PostgreSQL refuses NUL in a query (a 500)
            raise AuthenticationFailed(
                "Invalid token header. Token string should not contain invalid characters."
            )
        return key

    async def user_for_key(self, key):
        now = _clock()
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


@receiver(post_delete, sender=Token)
def forget_deleted_token(sender, instance, using, **kwargs):
    """A token deleted anywhere in this process (revoked, or its user deleted in the admin or a
    shell: the delete cascades to the token) stops working here at once. Forgotten again on
    commit, in case a request remembered it meanwhile from the row not yet deleted for it."""
    forget_token(instance.key)
    transaction.on_commit(partial(forget_token, instance.key), using=using)


def forget_user(pk):
    for key, (user, _expiry) in list(_users_by_token.items()):
        if user.pk == pk:
            forget_token(key)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def forget_changed_user(sender, instance, using, **kwargs):
    """A user saved in this process (deactivated, no longer staff...) is read afresh on their
    next token call here, and again after the commit, as for a deleted token."""
    forget_user(instance.pk)
    transaction.on_commit(partial(forget_user, instance.pk), using=using)
