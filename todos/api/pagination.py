from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class TodoCursorPagination(CursorPagination):
    """Newest first; `page_size` 1-100 and a well-formed `cursor`, anything else is a 400."""

    ordering = ("-created_at", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # Length first: int() refuses strings of over 4300 digits with a ValueError (a 500).
        if (
            not (raw.isascii() and raw.isdigit())
            or len(raw) > len(str(self.max_page_size))
            or not 1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        if cursor is False or (
            cursor is not None and cursor.position is not None and not _is_datetime(cursor.position)
        ):
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return cursor


def _is_datetime(text):
    try:
        return parse_datetime(text) is not None
    except ValueError:
        return False
