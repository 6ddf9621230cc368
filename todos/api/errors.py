"""Error answers in DRF's JSON shapes, including 413 for big bodies and 503 when the database
cannot serve (pool timeout, full wait queue, server unreachable, statement timeout): Django
wraps those psycopg errors in its own OperationalError, the fast lane's pool raises them bare."""

import json
import logging

import psycopg
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from psycopg_pool import PoolTimeout, TooManyRequests
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from ..metrics import DATABASE_ERRORS
from ..services import refers_to_a_deleted_user

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "1"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is busy or unavailable. Try again shortly."
    default_code = "database_unavailable"


def _too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return RequestTooLarge(f"Request body too large: the limit is {limit} bytes.")


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = _too_large()
    elif isinstance(exc, (OperationalError, InterfaceError, psycopg.OperationalError)):
        logger.warning("database unavailable: %r (cause: %r)", exc, exc.__cause__)
        DATABASE_ERRORS.labels(_database_error_kind(exc)).inc()
        exc = DatabaseUnavailable()
    elif refers_to_a_deleted_user(exc):
        exc = exceptions.AuthenticationFailed("User inactive or deleted.")
        exc.auth_header = "Token"  # as the 401 for any other refused token
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def _database_error_kind(exc):
    cause = exc if isinstance(exc, psycopg.Error) else exc.__cause__
    if isinstance(cause, TooManyRequests):
        return "pool_full"
    if isinstance(cause, PoolTimeout):
        return "pool_timeout"
    return "unavailable"


def _is_api(request):
    return request.path_info.startswith("/api/")


def bad_request(request, exception):
    """Django's handler400, for what Django refuses itself (SuspiciousOperation, BadRequest):
    too many query parameters, a Host header not in ALLOWED_HOSTS... Django's page elsewhere,
    JSON in DRF's shape under /api/. DRF leaves these exceptions to Django, and so does the
    lane; Django logs them to django.security.*."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        error = _too_large()
    elif isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        error = exceptions.ParseError(f"Too many query or form parameters: the limit is {limit}.")
    else:
        error = exceptions.ParseError("Bad request.")
    return JsonResponse({"detail": error.detail}, status=error.status_code)


def page_not_found(request, exception):
    """Django's handler404, for an Http404 raised outside the API's catch-all (DRF raises one for
    an unknown ?format=): JSON under /api/."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)


def server_error(request):
    """Django's handler500: JSON under /api/ too (the error is logged by django.request)."""
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "A server error occurred."}, status=500)


@csrf_exempt  # it changes nothing; without this an unsafe method got the HTML CSRF 403
async def not_found(request, *args, **kwargs):
    """JSON 404 for any path under /api/ that matches no endpoint, but a 308 (which keeps the
    method and body) to the endpoint it misses by a trailing slash: /api/todo/, /api/docs."""
    path = request.path_info
    near = path.removesuffix("/") if path.endswith("/") else f"{path}/"
    try:
        endpoint = resolve(near).func is not not_found
    except Resolver404:
        endpoint = False
    if not endpoint:
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    query = request.META.get("QUERY_STRING")
    location = request.path.removesuffix(path) + near + (f"?{query}" if query else "")
    return HttpResponsePermanentRedirect(
        location,
        preserve_request=True,
        content=json.dumps({"detail": f"This endpoint is {near}."}),
        content_type="application/json",
    )
