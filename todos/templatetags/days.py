"""Dates as a person reads them, in their own time zone (todos.time_zones activates it)."""

import datetime as dt

from django import template
from django.utils import dateformat, timezone

register = template.Library()

NAMED = {-1: "yesterday", 0: "today", 1: "tomorrow"}


@register.filter
def day(value, format=None):
    """ "today", "tomorrow" or "yesterday" where the user is, else the date in `format`, or by
    default as short as stays clear: "Fri, Dec 4" this coming week, "Dec 14" this year, else
    "Jan 5, 2028". (humanize's naturalday compares a date with the server's clock, not the user's.)"""
    if not isinstance(value, dt.date):
        return value
    today = timezone.localdate()
    days_ahead = (value - today).days
    if name := NAMED.get(days_ahead):
        return name
    if format is None:
        if 0 < days_ahead < 7:
            format = "D, M j"
        elif value.year == today.year:
            format = "M j"
        else:
            format = "M j, Y"
    return dateformat.format(value, format)
