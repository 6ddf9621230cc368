"""NUL and lone surrogate characters anywhere in a JSON body are a 400, before any serializer
sees them. PostgreSQL cannot store NUL in text, and a lone surrogate cannot be encoded as UTF-8:
echoed back in an error message ("... is not a valid choice") it made rendering the 400 fail
with a 500. DRF's CharField rejects both in the fields it knows; this covers every other
string too: unknown fields, names, nested values. Messages are DRF's own."""

NUL = "Null characters are not allowed."


def problem_with(text):
    if "\x00" in text:
        return NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"Surrogate characters are not allowed: U+{ord(text[exc.start]):X}."
    return None


def unsafe_text_errors(data):
    """None when every string (names included) is clean; else a DRF-shaped error for the first
    bad one, under the field it is in: {"title": [...]}, or {"3": {"title": [...]}} for an item
    of a list body; a bad name is reported as non_field_errors of the object that has it."""
    depth = 2 if isinstance(data, list) else 1  # a list body's errors go by item, then field
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = problem_with(value)
            if problem:
                return _error(path, depth, problem)
        elif isinstance(value, dict):
            for name, item in value.items():
                problem = problem_with(name)
                if problem:  # the name itself cannot be echoed back
                    where = path[:depth] if len(path) >= depth else (*path, "non_field_errors")
                    return _error(where, len(where), f"{problem} (in a name)")
                stack.append(((*path, name), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), item) for index, item in enumerate(value))
    return None


def _error(path, depth, message):
    error = [message]
    for name in reversed(path[:depth] or ("non_field_errors",)):
        error = {name: error}
    return error
