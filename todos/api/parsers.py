"""The API's one parser of request bodies (DEFAULT_PARSER_CLASSES, and the fast lane's)."""

from rest_framework import exceptions, parsers

from .unsafe_text import unsafe_text_errors


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also safe against nesting deep enough to exhaust the recursion limit,
    and refusing NUL and lone surrogate characters anywhere in the body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        errors = unsafe_text_errors(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return data
