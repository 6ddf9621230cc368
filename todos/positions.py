"""Manual order: a todo's `position` is an opaque string, and its sibling group sorted by it in
byte order is the order its owner chose (docs/lists.md).

Keys are fractional indexes (the scheme of rocicorp's fractional-indexing, CC0): an integer
part whose first character says its length ('a'-'z' for 0 and up, 'A'-'Z' below), then a
fraction in base 62 that never ends in '0'. There is always a key between two keys, before the
first and after the last, so a move writes the moved todo alone; putting things first or last
only steps the integer part, so keys stay short however often it happens. Every key made here
ends in a random suffix: two moves to the same place at the same moment get two positions.
"""

import secrets
import time

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALPHABET = frozenset(DIGITS)
SMALLEST_INTEGER = "A" + "0" * 26
SUFFIX_LENGTH = 4
# Each move into the same gap adds about a quarter of a character; a key this long would take
# some 4000 moves into one gap with no other move around it (btree entries end near 2700 bytes).
MAX_LENGTH = 1000


def seeded_sql(created_at, tiebreak):
    """SQL for the position of a row written by SQL alone (the migration, the seed commands):
    integer part "a0", then a fraction that sorts newest first (created_at, then `tiebreak`
    descending, both counted down in fixed-width hex) and ends in a non-zero digit. New todos
    (`newest`, "R...") come before all of these."""
    micros = f"greatest(0, (extract(epoch FROM {created_at}) * 1000000)::bigint)"
    return (
        f"'a0' || lpad(to_hex(72057594037927935 - {micros}), 14, '0')"
        f" || lpad(to_hex(9223372036854775807 - {tiebreak}), 16, '0') || 'V'"
    )


def between(before, after):
    """A new key strictly between `before` and `after` (None: the start or the end)."""
    key = _key_between(before, after)
    # The suffix must not carry the key past `after`, which it could only do if the key were
    # a prefix of it.
    while after is not None and after.startswith(key):
        key = _key_between(key, after)
    return key + _random_suffix()


def newest(now=None, rank=0):
    """The key of a new todo: below every key that existed before it, so new todos come first,
    with no read of its siblings. The integer part counts microseconds down (9 digits: 'R'),
    far below the keys the migration gave existing todos ('a0...'); `rank` orders the todos of
    one bulk create (0-3843) in input order."""
    micros = int((time.time() if now is None else now) * 1_000_000)
    return "R" + _base62(62**9 - 1 - micros, 9) + _base62(rank, 2) + _random_suffix()


def is_valid(key):
    try:
        _validate(key)
    except ValueError:
        return False
    return len(key) <= MAX_LENGTH


def _random_suffix():
    return "".join(secrets.choice(DIGITS) for _ in range(SUFFIX_LENGTH - 1)) + secrets.choice(
        DIGITS[1:]
    )


def _base62(number, width):
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(DIGITS[digit])
    return "".join(reversed(digits))


def _integer_length(head):
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise ValueError(f"invalid key head: {head!r}")


def _integer_part(key):
    length = _integer_length(key[0])
    if length > len(key):
        raise ValueError(f"invalid key: {key!r}")
    return key[:length]


def _validate(key):
    if not key or not set(key) <= ALPHABET or key == SMALLEST_INTEGER:
        raise ValueError(f"invalid key: {key!r}")
    if key[len(_integer_part(key)) :].endswith("0"):
        raise ValueError(f"invalid key: {key!r}")


def _midpoint(a, b):
    """A fraction strictly between fractions a and b (b None: 1), neither ending in '0'."""
    if b is not None:
        n = 0
        while (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = DIGITS.index(a[0]) if a else 0
    digit_b = DIGITS.index(b[0]) if b is not None else len(DIGITS)
    if digit_b - digit_a > 1:
        return DIGITS[round((digit_a + digit_b) / 2)]
    if b is not None and len(b) > 1:
        return b[0]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _step(integer, step):
    """The integer part one up (step 1) or one down (step -1), or None past the end."""
    head, digits = integer[0], list(integer[1:])
    wrap = DIGITS[0] if step > 0 else DIGITS[-1]
    for i in range(len(digits) - 1, -1, -1):
        digit = DIGITS.index(digits[i]) + step
        if 0 <= digit < len(DIGITS):
            digits[i] = DIGITS[digit]
            return head + "".join(digits)
        digits[i] = wrap
    # Every digit carried: the integer part changes length.
    if step > 0:
        if head == "Z":
            return "a" + DIGITS[0]
        if head == "z":
            return None
        new_head = chr(ord(head) + 1)
        digits = [*digits, DIGITS[0]] if new_head > "a" else digits[:-1]
    else:
        if head == "a":
            return "Z" + DIGITS[-1]
        if head == "A":
            return None
        new_head = chr(ord(head) - 1)
        digits = [*digits, DIGITS[-1]] if new_head < "Z" else digits[:-1]
    return new_head + "".join(digits)


def _key_between(a, b):
    for key in (a, b):
        if key is not None:
            _validate(key)
    if a is not None and b is not None and a >= b:
        raise ValueError(f"{a!r} is not before {b!r}")
    if a is None:
        if b is None:
            return "a" + DIGITS[0]
        integer = _integer_part(b)
        if integer == SMALLEST_INTEGER:
            return integer + _midpoint("", b[len(integer) :])
        # Not `integer` itself, though it sorts before b: every key here has a fraction (the
        # suffix), and stepping down keeps keys short where the integer alone would not.
        lower = _step(integer, -1)
        if lower is None:
            raise ValueError("no key below the smallest")
        return lower
    integer_a = _integer_part(a)
    fraction_a = a[len(integer_a) :]
    if b is None:
        higher = _step(integer_a, 1)
        return integer_a + _midpoint(fraction_a, None) if higher is None else higher
    integer_b = _integer_part(b)
    if integer_a == integer_b:
        return integer_a + _midpoint(fraction_a, b[len(integer_b) :])
    higher = _step(integer_a, 1)
    if higher is None:
        raise ValueError("no key above the largest")
    if higher < b:
        return higher
    return integer_a + _midpoint(fraction_a, None)
