"""Each person's locale (a BCP 47 tag such as en-GB or de): detected in the browser at signup and
login, changeable on the account page. Quick add reads dates in it: its language ("morgen",
"demain") and its order of day and month ("12/11" is December 11 in en-US, 12 November in en-GB).
English words stay understood whatever the locale, as the quick-add hints are English."""

import functools

from dateparser.data import language_locale_dict
from dateparser.languages.loader import default_loader

from .models import UserSettings

DEFAULT = "en"  # dateparser's "en" is American English: month before day
LONGEST_TAG = 35


@functools.cache
def names():
    """Every locale dateparser reads: languages ("de") and their regional variants ("de-AT")."""
    return sorted({*language_locale_dict, *(v for vs in language_locale_dict.values() for v in vs)})


def normalize(tag):
    """A known locale for a browser's tag ("pt-BR" -> "pt", "EN_gb" -> "en-GB"), or None."""
    if not isinstance(tag, str) or not 0 < len(tag) <= LONGEST_TAG:
        return None
    language, _, region = tag.replace("_", "-").partition("-")
    known = frozenset(names())
    for candidate in (f"{language.lower()}-{region.upper()}", f"{language.lower()}-{region}"):
        if region and candidate in known:
            return candidate
    return language.lower() if language.lower() in known else None


@functools.cache
def reading_settings(locale):
    """dateparser's locales and date order for reading a user's dates."""
    order = default_loader.get_locale_map(locales=[locale])[locale].info["date_order"]
    # Year-first locales (ja, zh, en-CA...) still write a day without its year month first: 12/14.
    order = "MDY" if order == "YMD" else order
    languages = [locale] if locale.split("-")[0] == "en" else [locale, DEFAULT]
    return languages, order


def of(user):
    """The user's locale, or the default."""
    name = UserSettings.objects.filter(user=user).values_list("locale", flat=True).first()
    return name if name in frozenset(names()) else DEFAULT


def remember(user, tag):
    """Store a browser's tag, as a known locale, as the user's; an unknown one is ignored."""
    locale = normalize(tag)
    if locale is None:
        return False
    UserSettings.objects.update_or_create(user=user, defaults={"locale": locale})
    return True
