"""`/api/auth/token`: POST issues the caller's token (views.TokenView); DELETE revokes the token
the request was made with, so it stops working at once. A later POST issues a new one."""

from asgiref.sync import sync_to_async
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from . import schema, views
from .auth import CachedTokenAuthentication


def _is_delete(view):
    return getattr(view.request, "method", None) == "DELETE"


class TokenView(views.TokenView):
    def get_authenticators(self):
        if _is_delete(self):
            return [CachedTokenAuthentication()]
        return super().get_authenticators()

    def get_permissions(self):
        if _is_delete(self):
            return [IsAuthenticated()]
        return [AllowAny()]

    @extend_schema(**schema.revoke_token)
    async def delete(self, request):
        # This worker forgets it at once (auth.forget_deleted_token), the others within
        # API_TOKEN_CACHE_SECONDS.
        await sync_to_async(request.auth.delete)()
        return Response(status=status.HTTP_204_NO_CONTENT)
