"""Error answers in DRF's JSON shapes, including 413 for big bodies and 503 when the database
cannot serve (pool timeout, full wait queue, server unreachable, statement timeout): Django
wraps those psycopg errors in its own OperationalError, the fast lane's pool raises them bare."""

import logging

import psycopg
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

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


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = RequestTooLarge(f"Request body too large: the limit is {limit} bytes.")
    elif isinstance(exc, (OperationalError, InterfaceError, psycopg.OperationalError)):
        logger.warning("database unavailable: %r (cause: %r)", exc, exc.__cause__)
        exc = DatabaseUnavailable()
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


@csrf_exempt  # it changes nothing; without this an unsafe method got the HTML CSRF 403
async def not_found(request, *args, **kwargs):
    """JSON 404 for any path under /api/ that matches no endpoint."""
    return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
