"""Quick add reads a line into a title, a due date, a priority and a list, in the user's time
zone, shows what it read before saving, and says it after."""

import datetime as dt

import pytest
import time_machine

from conftest import PASSWORD
from todos import locales
from todos.models import Priority, Todo, UserSettings
from todos.pages.quick_add import read
from todos.services import create_list

pytestmark = pytest.mark.django_db

# Wednesday Dec 3, 2025, 22:30 where the reader is.
NOW = dt.datetime(2025, 12, 3, 22, 30)


class Named:
    def __init__(self, name):
        self.name = name


HOME, WORK = Named("Home"), Named("Work")


@pytest.mark.parametrize(
    ("line", "title", "due", "priority", "todo_list"),
    [
        ("Pay rent tomorrow", "Pay rent", dt.date(2025, 12, 4), None, None),
        ("call mum fri", "call mum", dt.date(2025, 12, 5), None, None),
        ("call mum on friday", "call mum", dt.date(2025, 12, 5), None, None),
        ("dentist 12/14", "dentist", dt.date(2025, 12, 14), None, None),
        ("renew passport 1/10", "renew passport", dt.date(2026, 1, 10), None, None),
        ("Ship it in 3 days", "Ship it", dt.date(2025, 12, 6), None, None),
        ("File taxes !high", "File taxes", None, Priority.HIGH, None),
        ("Standup #work !LOW today", "Standup", dt.date(2025, 12, 3), Priority.LOW, WORK),
        ("Buy 2", "Buy 2", None, None, None),  # a bare number is no date
        ("Read chapter 5", "Read chapter 5", None, None, None),
        ("tomorrow", "tomorrow", None, None, None),  # a title word always stays
        ("Pack", "Pack", None, None, None),
    ],
)
def test_a_line_is_read_into_title_date_priority_and_list(line, title, due, priority, todo_list):
    reading = read(line, lists=[HOME, WORK], now=NOW)
    assert (reading.title, reading.due_date, reading.priority, reading.list) == (
        title,
        due,
        priority,
        todo_list,
    )


def test_an_unknown_list_stays_in_the_title_and_is_pointed_out():
    reading = read("Call plumber #Hoem", lists=[HOME], now=NOW)
    assert reading.title == "Call plumber #Hoem"
    assert reading.unknown_list == "Hoem"


@time_machine.travel(dt.datetime(2025, 12, 4, 6, 30, tzinfo=dt.UTC), tick=False)
def test_the_preview_reads_dates_in_the_users_time_zone(alice, alice_client):
    UserSettings.objects.create(user=alice, time_zone="America/Los_Angeles")  # Dec 3, 22:30
    create_list(owner=alice, name="Home")

    html = alice_client.get("/todos/quick/preview/", {"text": "Pay rent tomorrow !high #home"})

    text = html.content.decode()
    assert "“Pay rent”" in text
    assert "Due tomorrow" in text
    assert "High priority" in text
    assert "In Home" in text
    assert not Todo.objects.exists()  # a preview saves nothing


def test_quick_add_saves_what_it_read_and_says_so(alice, alice_client):
    home = create_list(owner=alice, name="Home")

    page = alice_client.post(
        "/todos/quick/", {"text": "Water plants !low #Home", "list": "", "next": "/"}, follow=True
    )

    todo = Todo.objects.get()
    assert (todo.title, todo.priority, todo.list_id) == ("Water plants", Priority.LOW, home.pk)
    html = page.content.decode()
    assert "Added “Water plants” (low priority, in Home)." in html
    assert 'id="quick-add"' in html
    assert "autofocus" in html  # the cursor back in the field for the next one


def test_quick_add_files_into_the_list_it_is_on_and_refuses_an_empty_title(alice, alice_client):
    work = create_list(owner=alice, name="Work")
    alice_client.post("/todos/quick/", {"text": "Standup", "list": work.pk})
    assert Todo.objects.get().list_id == work.pk

    page = alice_client.post("/todos/quick/", {"text": "   !high ", "list": work.pk}, follow=True)
    assert "Nothing was added: This field is required." in page.content.decode()
    assert Todo.objects.count() == 1


def test_quick_add_into_another_users_list_is_refused(alice, bob, alice_client):
    theirs = create_list(owner=bob, name="Secret")
    page = alice_client.post("/todos/quick/", {"text": "Sneak", "list": theirs.pk}, follow=True)
    assert "No list with this id." in page.content.decode()
    assert not Todo.objects.exists()


@pytest.mark.parametrize(
    ("line", "locale", "due"),
    [
        ("dentist 12/11", "en", dt.date(2025, 12, 11)),  # American: month first
        ("dentist 12/11", "en-GB", dt.date(2026, 11, 12)),  # British: day first
        ("dentist 12/11", "de", dt.date(2026, 11, 12)),
        ("dentist 12/14", "ja", dt.date(2025, 12, 14)),  # year-first: a day is still month/day
        ("Zahnarzt morgen", "de", dt.date(2025, 12, 4)),
        ("Zahnarzt Freitag", "de-AT", dt.date(2025, 12, 5)),
        ("dentiste demain", "fr", dt.date(2025, 12, 4)),
        ("call mum fri", "de", dt.date(2025, 12, 5)),  # English words work in every locale
        ("Pay rent tomorrow", "fr-CA", dt.date(2025, 12, 4)),
    ],
)
def test_dates_are_read_in_the_users_locale(line, locale, due):
    reading = read(line, lists=[], now=NOW, locale=locale)
    assert (reading.title, reading.due_date) == (line.rsplit(" ", 1)[0], due)


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("en-US", "en-US"),
        ("en-GB", "en-GB"),
        ("en_gb", "en-GB"),
        ("pt-BR", "pt"),  # a region dateparser does not know: its language
        ("de-AT", "de-AT"),
        ("DE", "de"),
        ("xx-YY", None),
        ("", None),
        ("en-" + "x" * 40, None),
        (None, None),
    ],
)
def test_a_browsers_locale_tag_becomes_a_known_locale(tag, locale):
    assert locales.normalize(tag) == locale


@time_machine.travel(dt.datetime(2025, 12, 3, 12, 0, tzinfo=dt.UTC), tick=False)
def test_the_account_page_sets_the_locale_quick_add_reads_dates_in(alice, alice_client):
    page = alice_client.get("/accounts/settings/")
    assert 'name="locale"' in page.content.decode()
    assert (
        alice_client.post("/todos/quick/", {"text": "Dentist 12/11", "list": ""}).status_code == 302
    )
    assert Todo.objects.get().due_date == dt.date(2025, 12, 11)

    saved = alice_client.post(
        "/accounts/settings/", {"time_zone": "Europe/London", "locale": "en-GB"}, follow=True
    )
    assert "Quick add reads dates as en-GB does." in saved.content.decode()
    assert UserSettings.objects.get(user=alice).locale == "en-GB"
    preview = alice_client.get("/todos/quick/preview/", {"text": "Dentist 12/11"})
    assert "Due Thu, Nov 12" in preview.content.decode()


def test_an_unknown_locale_on_the_account_page_is_a_form_error(alice, alice_client):
    page = alice_client.post("/accounts/settings/", {"time_zone": "UTC", "locale": "klingon"})
    assert page.status_code == 200
    assert "Select a valid choice." in page.content.decode()
    assert not UserSettings.objects.filter(user=alice).exists()


def test_signing_in_keeps_the_browsers_locale(alice, client):
    response = client.post(
        "/accounts/login/",
        {
            "username": "alice",
            "password": PASSWORD,
            "time_zone": "Europe/Berlin",
            "locale": "de-DE",
        },
    )
    assert response.status_code == 302
    settings = UserSettings.objects.get(user=alice)
    assert (settings.time_zone, settings.locale) == ("Europe/Berlin", "de")
