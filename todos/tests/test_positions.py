"""Manual order's keys (todos.positions): always one between two, before the first and after the
last; short however often things go first or last; never the same twice for one place."""

import random

from todos import positions


def test_keys_made_anywhere_keep_their_order_and_stay_valid():
    rng = random.Random(10)
    keys = [positions.between(None, None)]
    for _ in range(5000):
        i = rng.randrange(len(keys) + 1)
        before = keys[i - 1] if i else None
        after = keys[i] if i < len(keys) else None
        keys.insert(i, positions.between(before, after))
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert all(positions.is_valid(key) for key in keys)


def test_going_first_or_last_ten_thousand_times_keeps_keys_short():
    first = last = positions.between(None, None)
    for _ in range(10_000):
        new_first, new_last = positions.between(None, first), positions.between(last, None)
        assert new_first < first
        assert new_last > last
        first, last = new_first, new_last
    assert len(first) <= 16
    assert len(last) <= 16


def test_two_moves_to_the_same_place_get_two_keys_both_in_the_gap():
    before, after = "a0V", "a0W"
    one, two = positions.between(before, after), positions.between(before, after)
    assert one != two
    assert before < one < after
    assert before < two < after


def test_a_key_that_is_a_prefix_of_its_upper_neighbour_stays_below_it():
    # The midpoint of "a0" and "a011" is "a01", a prefix of "a011": its suffix could pass it.
    for _ in range(200):
        key = positions.between("a0", "a011")
        assert "a0" < key < "a011"


def test_new_todos_come_before_the_keys_the_migration_gave_and_each_other():
    migrated = "a0" + "0" * 30 + "V"
    older, newer = positions.newest(now=1_800_000_000.0), positions.newest(now=1_800_000_000.5)
    assert newer < older < migrated
    bulk = [positions.newest(now=1_800_000_000.0, rank=rank) for rank in range(1000)]
    assert bulk == sorted(bulk)


def test_keys_only_grow_slowly_in_one_gap():
    before, after = "a0V", "a0W"
    for _ in range(300):
        after = positions.between(before, after)
    assert len(after) < 120
    assert positions.is_valid(after)
