from django import forms
from django.contrib.auth.forms import UserCreationForm

from .. import locales, time_zones
from ..models import EARLIEST_DUE_DATE, LATEST_DUE_DATE, Priority, Todo, validate_due_date


def _to_priority(value):
    if isinstance(value, int):
        return Priority(value)
    try:
        return Priority.from_name(value)
    except KeyError:
        raise ValueError(value) from None


class PriorityChoiceField(forms.TypedChoiceField):
    """Priority by name, as in the API and the list's query string; a small integer once clean."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=[(p.label, p.label.capitalize()) for p in Priority],
            coerce=_to_priority,
            **kwargs,
        )

    def prepare_value(self, value):
        return Priority(value).label if isinstance(value, int) else value


class TodoForm(forms.ModelForm):
    """Derived from the model, so the API's limits hold here too: a title of 1-200 characters
    after trimming, no NUL characters (Django's CharField rejects them), a known priority."""

    priority = PriorityChoiceField(initial=Priority.MEDIUM.label)

    class Meta:
        model = Todo
        fields = ("title", "description", "priority", "due_date")
        widgets = {
            "title": forms.TextInput(
                attrs={"autocomplete": "off", "placeholder": "What needs doing?"}
            ),
            "description": forms.Textarea(
                attrs={"rows": 4, "placeholder": "Links, details, anything that helps"}
            ),
            "due_date": forms.DateInput(
                attrs={
                    "type": "date",
                    "min": EARLIEST_DUE_DATE.isoformat(),
                    "max": LATEST_DUE_DATE.isoformat(),
                },
                format="%Y-%m-%d",
            ),
        }
        # One name for each field, here and on the list's add form.
        labels = {"title": "Title", "description": "Description", "due_date": "Due date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The API keeps a description's whitespace as given; so do the pages.
        self.fields["description"].strip = False
        self.fields["due_date"].validators.append(validate_due_date)


class TodoEditForm(TodoForm):
    class Meta(TodoForm.Meta):
        fields = (*TodoForm.Meta.fields, "completed")
        labels = {**TodoForm.Meta.labels, "completed": "Done"}


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class AccountForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="“Today”, “overdue” and every time shown use it.",
    )

    locale = forms.ChoiceField(
        required=False,  # left out: unchanged
        label="Dates in quick add",
        help_text="How quick add reads a date: with en “12/11” is December 11, with en-GB "
        "11 December, with de “morgen” is tomorrow. English words always work.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zones.names()]
        self.fields["locale"].choices = [(name, name) for name in locales.names()]
