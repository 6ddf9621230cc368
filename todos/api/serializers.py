import functools
from datetime import UTC

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from ..models import Priority, validate_due_date

MAX_ID = 2**63 - 1


class PriorityField(serializers.ChoiceField):
    """Priority by name ("low", "medium", "high") in JSON; a small integer in the database."""

    def __init__(self, **kwargs):
        super().__init__(choices=[p.label for p in Priority], **kwargs)

    def to_internal_value(self, data):
        return Priority.from_name(super().to_internal_value(data))

    def to_representation(self, value):
        return Priority(value).label


class JSONBooleanField(serializers.BooleanField):
    """Only JSON true and false: DRF's BooleanField also takes 0, 1, "yes", "off"..."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class JSONStringField(serializers.CharField):
    """Only JSON strings: DRF's CharField also turns numbers into text (1e400 -> "inf").

    Without CharField's NUL and surrogate validators: the API's JSON parser refuses both anywhere
    in a body before any serializer runs (todos.api.unsafe_text), in C instead of a Python loop
    over every character of every string.
    """

    default_error_messages = {"invalid": "Not a valid string."}
    checked_by_the_parser = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, self.checked_by_the_parser)
        ]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


UNKNOWN_FIELD = "Unknown field."


class RefusingUnknownFields(serializers.Serializer):
    """DRF's, but a field this serializer does not know is an error naming it (a typo must not
    look like success), beside the other fields' errors; read-only fields sent back as they were
    read are ignored."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {name: [UNKNOWN_FIELD] for name in data if name not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def id_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class TodoSerializer(RefusingUnknownFields):
    """Reads and writes one todo. NUL and lone surrogate characters never get this far: the
    API's JSON parser answers 400 for them, so they never reach PostgreSQL."""

    id = serializers.IntegerField(read_only=True)
    title = JSONStringField(max_length=200)
    description = JSONStringField(allow_blank=True, trim_whitespace=False, default="")
    priority = PriorityField(default=Priority.MEDIUM)
    due_date = serializers.DateField(
        allow_null=True, default=None, validators=[validate_due_date], help_text="1900-2200."
    )
    completed = JSONBooleanField(default=False)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    list = id_field(source="list_id", required=False, help_text="Default: your Inbox.")
    parent = id_field(source="parent_id", required=False, allow_null=True)
    position = serializers.CharField(
        read_only=True, help_text="Opaque: siblings sorted by it (byte order) are their order."
    )

    # A bulk validates every item with one TodoSerializer: DRF would walk its fields again for
    # each item to find the writable ones and the read-only defaults.
    @cached_property
    def _writable_fields(self):
        return tuple(super()._writable_fields)

    def run_validators(self, value):
        if self.validators:  # none are declared; DRF would still gather read-only defaults
            super().run_validators(value)


class MoveSerializer(RefusingUnknownFields):
    list = id_field(required=False, help_text="Default: the list the todo is in.")
    parent = id_field(required=False, allow_null=True, default=None, help_text="Default: none.")
    after = id_field(
        required=False, allow_null=True, default=None, help_text="Default: none (first)."
    )


class TodoListSerializer(RefusingUnknownFields):
    id = serializers.IntegerField(read_only=True)
    name = JSONStringField(max_length=100)
    is_inbox = serializers.BooleanField(read_only=True)
    open_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


def list_data(todo_list):
    return {
        "id": todo_list.id,
        "name": todo_list.name,
        "is_inbox": todo_list.is_inbox,
        "open_count": todo_list.open_count,
        "created_at": _iso_utc(todo_list.created_at),
        "updated_at": _iso_utc(todo_list.updated_at),
    }


PRIORITY_NAMES = {priority.value: priority.label for priority in Priority}


def todo_data(todo):
    """What `TodoSerializer(todo).data` gives, built directly: DRF's per-field machinery cost
    more than everything else in a list request (a test pins the two equal)."""
    return {
        "id": todo.id,
        "title": todo.title,
        "description": todo.description,
        "priority": PRIORITY_NAMES[todo.priority],
        "due_date": todo.due_date.isoformat() if todo.due_date else None,
        "completed": todo.completed,
        "completed_at": _iso_utc(todo.completed_at),
        "created_at": _iso_utc(todo.created_at),
        "updated_at": _iso_utc(todo.updated_at),
        "list": todo.list_id,
        "parent": todo.parent_id,
        "position": todo.position,
    }


def _iso_utc(value):
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class TodoBulkSerializer(serializers.ListSerializer):
    child = TodoSerializer()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_empty=False, max_length=1000, **kwargs)


REPEATED = "This todo is in the batch already (item {first})."
REQUIRED = "This field is required."


class TodoBulkUpdateItemSerializer(TodoSerializer):
    """One item of a batch edit: the todo's id and the fields of a PATCH."""

    id = id_field()

    def validate(self, attrs):
        if "id" not in attrs:  # a partial serializer requires nothing by itself
            raise serializers.ValidationError({"id": [REQUIRED]})
        return attrs


def _refuse_repeats(ids, error):
    """Each id given again after its first place: an error at that position."""
    first, repeated = {}, {}
    for index, pk in enumerate(ids):
        if pk in first:
            repeated[index] = error(REPEATED.format(first=first[pk]))
        first.setdefault(pk, index)
    if repeated:
        raise serializers.ValidationError(repeated)


class TodoBulkUpdateSerializer(serializers.ListSerializer):
    """A batch edit, `partial` as a PATCH: 1-1000 items, each id once."""

    child = TodoBulkUpdateItemSerializer()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_empty=False, max_length=1000, partial=True, **kwargs)

    def validate(self, attrs):
        _refuse_repeats([item["id"] for item in attrs], lambda message: {"id": [message]})
        return attrs


class TodoBulkDeleteSerializer(RefusingUnknownFields):
    ids = serializers.ListField(child=id_field(), allow_empty=False, max_length=1000)

    def validate_ids(self, ids):
        _refuse_repeats(ids, lambda message: [message])
        return ids


ORDERS = ("newest", "due", "position")
NO_WORD = "Give at least one word (letters or digits) to search for."


class TodoFilterSerializer(serializers.Serializer):
    # Not allow_null: that would read "null", "NULL" and "" as "any" instead of a 400.
    completed = serializers.BooleanField(required=False, default=None)
    priority = PriorityField(required=False, allow_null=True, default=None)
    due_before = serializers.DateField(required=False, allow_null=True, default=None)
    due_after = serializers.DateField(required=False, allow_null=True, default=None)
    list = id_field(required=False, default=None)
    parent = serializers.CharField(required=False, default=None)
    order = serializers.ChoiceField(ORDERS, required=False, default="newest")
    q = serializers.CharField(required=False, default=None, max_length=200)

    def validate_q(self, value):
        if value is not None and not any(c.isalnum() for c in value):
            raise serializers.ValidationError(NO_WORD)
        return value

    def validate_parent(self, value):
        if value is None or value == "none":
            return value
        if not (value.isascii() and value.isdigit() and len(value) <= 19) or not (
            1 <= int(value) <= MAX_ID
        ):
            raise serializers.ValidationError("A todo id, or none.")
        return int(value)

    def validate(self, data):
        if data["order"] == "position" and (data["list"] is None or data["parent"] is None):
            raise serializers.ValidationError(
                {"order": ["order=position needs the list and parent filters."]}
            )
        return data

    @classmethod
    def from_query(cls, query_params):
        """Validated filters from a query string; raises a 400 ValidationError when invalid,
        also when a filter or a pagination parameter is given more than once."""
        repeated = {
            name: ["Give this parameter once."]
            for name in (*cls._declared_fields, "page_size", "cursor")
            if len(query_params.getlist(name)) > 1
        }
        if repeated:
            raise serializers.ValidationError(repeated)
        return dict(cls._validated(tuple(map(query_params.get, cls._declared_fields))))

    @classmethod
    @functools.lru_cache(maxsize=1024)
    def _validated(cls, given):
        """The filters of `given` (one raw value or None per filter), validated. Remembered:
        lists ask for the same few combinations over and over, and a DRF serializer costs more
        CPU (deep-copying its fields) than the list's query."""
        # A plain dict: DRF reads a missing boolean in a QueryDict as False, not as absent.
        data = {
            name: value
            for name, value in zip(cls._declared_fields, given, strict=True)
            if value is not None
        }
        filters = cls(data=data)
        filters.is_valid(raise_exception=True)
        return filters.validated_data
