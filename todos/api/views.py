"""The JSON API's DRF views (adrf): the endpoints of todos.api.operations, the token view and
the pool status. Serializers validate and render on the event loop (they touch no database);
every query goes through todos.executor or the ORM's async methods."""

import adrf.views
from asgiref.sync import iscoroutinefunction, sync_to_async
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response

from ..pool_status import pool_status
from . import operations, schema
from .answers import Call
from .auth import CachedTokenAuthentication


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """The API renders only JSON: skip parsing the Accept header (parsers are still matched
    against Content-Type, so a wrong one is a 415)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class APIView(adrf.views.APIView):
    """adrf's APIView, but a token is checked on the event loop instead of in a thread.

    Requests without a token (session cookies) still authenticate in one sync_to_async hop.
    """

    content_negotiation_class = JSONOnlyNegotiation

    async def async_dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request, self.headers = request, self.default_response_headers
        try:
            await self.ainitial(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            if request.method.lower() not in self.http_method_names:
                handler = self.http_method_not_allowed
            if iscoroutinefunction(handler):
                response = await handler(request, *args, **kwargs)
            else:
                response = await sync_to_async(handler)(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    async def ainitial(self, request, *args, **kwargs):
        first = request.authenticators[0] if request.authenticators else None
        user_auth = await first.aauthenticate(request) if hasattr(first, "aauthenticate") else None
        if user_auth is None:
            await sync_to_async(self.initial)(request, *args, **kwargs)
            return
        request._authenticator = first
        request.user, request.auth = user_auth
        await self.acheck_throttles(request)
        self.initial(request, *args, **kwargs)  # the user is known: no query from here on

    async def acheck_throttles(self, request):
        """DRF's check_throttles, awaiting the throttles that can be awaited (Redis on the event
        loop); `initial` then skips them."""
        waits = []
        for throttle in self.get_throttles():
            if hasattr(throttle, "aallow_request"):
                allowed = await throttle.aallow_request(request, self)
            else:
                allowed = throttle.allow_request(request, self)
            if not allowed:
                waits.append(throttle.wait())
        request.throttles_checked = True
        if waits:
            self.throttled(request, max((w for w in waits if w is not None), default=None))

    def check_throttles(self, request):
        if not getattr(request, "throttles_checked", False):
            super().check_throttles(request)


class TokenView(APIView):
    """POST username and password, get the user's API token. Wrong credentials are 401 (missing
    fields 400), as a client expects of a login."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return CachedTokenAuthentication.keyword  # what to use once logged in

    @extend_schema(**schema.issue_token)
    async def post(self, request):
        token = await sync_to_async(self._issue_token)(request)
        return Response({"token": token.key})

    def _issue_token(self, request):
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        if not credentials.is_valid():
            codes = credentials.errors.get("non_field_errors", [])
            if any(getattr(message, "code", None) == "authorization" for message in codes):
                raise AuthenticationFailed(codes[0])
            raise ValidationError(credentials.errors)
        token, _ = Token.objects.get_or_create(user=credentials.validated_data["user"])
        return token


class EndpointView(APIView):
    """The DRF view of one endpoint of todos.api.operations: authentication, CSRF for sessions,
    permissions and DRF's error answers here; the rest (the write throttle included) in the
    endpoint's operations, which the fast lane performs too."""

    endpoint = None
    parser_classes = [operations.BODY_PARSER]
    throttle_classes = []  # operations.perform throttles what the endpoint declares a write

    async def perform(self, request, operation, pk=None):
        django_request = request._request
        call = Call(user=request.user, request=django_request, parse=lambda: request.data, pk=pk)
        answer = await operations.perform(operation, call)
        return Response(answer.data, status=answer.status, headers=answer.headers)


def endpoint_view(endpoint):
    """An EndpointView class with one handler per method of the endpoint, each described in
    OpenAPI by its operation's schema."""

    def handler(operation):
        @extend_schema(**operation.schema)
        async def handle(self, request, pk=None):
            return await self.perform(request, operation, pk)

        return handle

    handlers = {method: handler(op) for method, op in endpoint.operations.items()}
    name = "".join(part.title() for part in endpoint.name.split("-")) + "View"
    return type(name, (EndpointView,), {"endpoint": endpoint, **handlers})


TodoListView = endpoint_view(operations.TODO_LIST)
TodoBulkView = endpoint_view(operations.TODO_BULK)
TodoBulkDeleteView = endpoint_view(operations.TODO_BULK_DELETE)
TodoDetailView = endpoint_view(operations.TODO_DETAIL)
TodoMoveView = endpoint_view(operations.TODO_MOVE)
ListListView = endpoint_view(operations.LISTS)
ListDetailView = endpoint_view(operations.LIST_DETAIL)
SyncView = endpoint_view(operations.SYNC)


class PoolStatusView(APIView):
    """This worker process's connection pool, its bounds and counters, and the server's limits."""

    permission_classes = [IsAdminUser]

    @extend_schema(**schema.pool_status)
    async def get(self, request):
        return Response(await sync_to_async(pool_status)())
