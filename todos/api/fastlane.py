"""The API fast lane: token-authenticated calls to the endpoints of todos.api.operations, served
on the event loop.

Django's ASGI handler gives every request a thread of its own, sends the request_started and
request_finished signals, and runs the whole middleware chain (each sync middleware in a thread
hop); the views' queries then run in yet another hop, and DRF's per-request objects cost more CPU
than the work itself. The lane decides from the ASGI scope alone whether a request is one it can
answer exactly as the DRF view would (`route`); if so it performs the same operation as the view
(todos.api.operations.perform), with its statements on the API's asyncio pool (todos.api_pool,
todos.executor) and no thread hop. Every other request goes to Django's full application,
untouched: no token, another path or method, a body that is not the parser's JSON or is over the
size limit, an id out of range, Idempotency-Key or If-Match (they need a transaction on Django's
connection), a host that ALLOWED_HOSTS refuses, plain HTTP where HTTPS is required.

What the lane does instead of the middleware: SecurityMiddleware and XFrameOptionsMiddleware add
their headers as plain function calls, and Content-Length is set. No session, CSRF or messages:
token requests use none of them. Nothing here listens to request_started / request_finished
(todos.executor.on_django_connection gives Django's connection back where an operation used it).
"""

import re

from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, ASGIRequest, get_script_prefix
from django.core.handlers.exception import response_for_exception
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from .. import api_pool, executor
from . import operations
from .answers import Call
from .auth import CachedTokenAuthentication

MAX_TODO_ID = 2**63 - 1
# Path -> endpoint, and whether the path carries a todo id.
ROUTES = (
    (re.compile(r"/api/todo"), operations.TODO_LIST),
    (re.compile(r"/api/todo/bulk"), operations.TODO_BULK),
    (re.compile(r"/api/todo/bulk/delete"), operations.TODO_BULK_DELETE),
    (re.compile(r"/api/todo/([0-9]{1,19})"), operations.TODO_DETAIL),
    (re.compile(r"/api/todo/([0-9]{1,19})/move"), operations.TODO_MOVE),
    (re.compile(r"/api/lists"), operations.LISTS),
    (re.compile(r"/api/lists/([0-9]{1,19})"), operations.LIST_DETAIL),
    (re.compile(r"/api/sync"), operations.SYNC),
)
BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
# Requests with these headers need the features of the full stack (see docs).
FULL_STACK_HEADERS = frozenset((b"idempotency-key", b"if-match"))
BODY_MEDIA_TYPE = operations.BODY_PARSER.media_type.encode()

_authentication = CachedTokenAuthentication()
_render = JSONRenderer().render
_parse = operations.BODY_PARSER().parse
_allowed_hosts = {}  # Host header -> whether ALLOWED_HOSTS lets it in


def route(scope):
    """(endpoint, operation, todo id or None) when the lane serves this request, else None."""
    if scope["type"] != "http":
        return None
    method = scope["method"]
    endpoint, match = _endpoint_of(scope["path"])
    if endpoint is None:
        return None
    operation = endpoint.operations.get(method.lower())
    if operation is None or method == "HEAD" or not _secure_enough(scope):
        return None
    pk = int(match[1]) if match.groups() else None
    if pk is not None and not 1 <= pk <= MAX_TODO_ID:
        return None
    token = host = content_type = length = None
    for name, value in scope["headers"]:
        if name in FULL_STACK_HEADERS:
            return None
        if name == b"authorization":
            token = value
        elif name == b"host":
            host = value
        elif name == b"content-type":
            content_type = value
        elif name == b"content-length":
            length = value
    if token is None or token[:6].lower() != b"token " or not _host_allowed(host):
        return None
    size = int(length) if length and length.isdigit() and len(length) < 19 else None
    if length is not None and (size is None or size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
        return None  # Django's 413, or a malformed length
    if method in BODY_METHODS and (content_type != BODY_MEDIA_TYPE or not size):
        return None  # DRF's 415 and empty-body rules: the view's to give
    return endpoint, operation, pk


def _endpoint_of(path):
    for pattern, endpoint in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None:
            return endpoint, match
    return None, None


def _host_allowed(host):
    """ALLOWED_HOSTS, as Django's request.get_host() applies it (CommonMiddleware answers 400 to
    a refused host on the full stack). Behind a proxy that Django is told to trust for the host
    (USE_X_FORWARDED_HOST), Django decides."""
    if settings.USE_X_FORWARDED_HOST:
        return False
    allowed = _allowed_hosts.get(host)
    if allowed is None:
        domain, _ = split_domain_port(host.decode("latin-1")) if host else ("", "")
        hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not hosts:
            hosts = [".localhost", "127.0.0.1", "[::1]"]
        allowed = bool(domain) and validate_host(domain, hosts)
        if len(_allowed_hosts) < 1000:
            _allowed_hosts[host] = allowed
    return allowed


def _forget_hosts(*, setting, **kwargs):
    if setting in ("ALLOWED_HOSTS", "DEBUG"):
        _allowed_hosts.clear()


setting_changed.connect(_forget_hosts)


def _secure_enough(scope):
    """False when SecurityMiddleware would redirect the request to HTTPS."""
    if not settings.SECURE_SSL_REDIRECT or scope.get("scheme") == "https":
        return True
    path = scope["path"].lstrip("/")
    if any(re.search(pattern, path) for pattern in settings.SECURE_REDIRECT_EXEMPT):
        return True
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        return (name, proxy[1].encode()) in scope["headers"]
    return False


class FastLane:
    """ASGI application: the lane for the requests `route` gives it, Django for the rest."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.security = SecurityMiddleware(_never_called)
        self.xframe = XFrameOptionsMiddleware(_never_called)
        self._security_headers = {}  # is_secure() -> the headers the two middlewares add

    async def __call__(self, scope, receive, send):
        routed = route(scope) if settings.API_FAST_LANE else None
        if routed is None:
            await self.django_app(scope, receive, send)
            return
        try:  # Django's own body reader (it uses nothing of the handler it belongs to)
            body_file = await ASGIHandler.read_body(self, receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request = ASGIRequest(scope, body_file)
        status, data, headers = await self.answer(request, *routed)
        headers = [
            (name.encode("latin-1"), str(value).encode("latin-1"))
            for name, value in headers.items()
        ]
        if data is None:
            body = b""
        elif isinstance(data, bytes):  # Django's own error page, with its own Content-Type
            body = data
        else:
            body = _render(data)
            headers.insert(0, (b"content-type", b"application/json"))
        headers.append((b"allow", routed[0].allow.encode()))
        headers += self.security_headers(request)
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        body_file.close()

    async def answer(self, request, endpoint, operation, pk):
        """(status, data, headers) of the operation, or of its error as the DRF view gives it."""
        pool = executor.request_pool.set(await api_pool.opened())
        try:
            user = await self._user(request)
            call = Call(user=user, request=request, parse=lambda: _parse(request), pk=pk)
            return await operations.perform(operation, call)
        except Exception as exc:
            return self.error(request, exc)
        finally:
            executor.request_pool.reset(pool)

    async def _user(self, request):
        key = _authentication.key_from_header(request)
        return await _authentication.user_for_key(key)

    def error(self, request, exc):
        """What DRF's APIView.handle_exception answers; what Django's handler answers (a logged
        500) to what DRF's exception handler does not handle."""
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            exc.auth_header = _authentication.authenticate_header(request)
        response = api_settings.EXCEPTION_HANDLER(exc, {"request": request})
        if response is None:
            response = response_for_exception(request, exc)
            return response.status_code, response.content, dict(response.items())
        # DRF's Response has no Content-Type until it is rendered (Django's default until then).
        headers = {k: v for k, v in response.items() if k.lower() != "content-type"}
        return response.status_code, response.data, headers

    def security_headers(self, request):
        """What SecurityMiddleware and XFrameOptionsMiddleware add to an answer (they depend
        only on the settings and on whether the request came over HTTPS)."""
        secure = request.is_secure()
        headers = self._security_headers.get(secure)
        if headers is None:
            response = self.security.process_response(request, HttpResponse())
            response = self.xframe.process_response(request, response)
            headers = self._security_headers[secure] = [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in response.items()
                if name.lower() != "content-type"
            ]
        return headers


def _never_called(request):
    raise AssertionError("the lane calls these middlewares' hooks directly")
