"""Dates as a person reads them, in their own time zone (todos.time_zones activates it)."""

import datetime as dt

from django import template
from django.utils import dateformat, timezone

register = template.Library()

NAMED = {-1: "yesterday", 0: "today", 1: "tomorrow"}


@register.filter
def day(value, format="M j, Y"):
    """ "today", "tomorrow" or "yesterday" where the user is, else the date in `format`.
    (humanize's naturalday compares a date with the server's clock, not the user's.)"""
    if not isinstance(value, dt.date):
        return value
    name = NAMED.get((value - timezone.localdate()).days)
    return name or dateformat.format(value, format)
