"""esc_platform.safe_json: JSON with bounded nesting and numbers, errors that say where."""

from __future__ import annotations

import json

import pytest

from esc_platform.safe_json import JSONLimitError, format_path, loads


def test_it_parses_ordinary_json_like_json() -> None:
    text = '{"type": "message", "id": "m-1", "n": [1, 2.5, -3e2, true, null], "t": "\\u00e9"}'
    assert loads(text) == json.loads(text)
    assert loads(b'[1, {"a": []}]') == [1, {"a": []}]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("[" * 100_000, [0] * 4),
        ("[" * 5 + "]" * 5, [0] * 4),
        ('{"a": {"b": [{"c": [[]]}]}}', ["a", "b", 0, "c"]),
        ('[1, 2, {"k": [[[[]]]]}]', [2, "k", 0, 0]),
    ],
)
def test_it_refuses_nesting_past_the_limit_and_says_where(text: str, path: list) -> None:
    with pytest.raises(JSONLimitError) as refused:
        loads(text, max_depth=4)
    assert refused.value.path == path
    assert "nested deeper than 4 levels" in str(refused.value)


def test_a_deep_but_allowed_value_parses() -> None:
    assert loads("[" * 4 + "]" * 4, max_depth=4) == [[[[]]]]


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("9" * 5000, "a number of 5000 characters"),
        ("-" + "1" * 41, "a number of 42 characters"),
        ("1" + "0" * 40 + ".5", "a number of 43 characters"),
        ("1e999", "a number too large"),
        ("-1e999", "a number too large"),
        ("NaN", "NaN is not a number"),
        ("-Infinity", "-Infinity is not a number"),
    ],
)
def test_it_refuses_numbers_no_column_holds(literal: str, message: str) -> None:
    with pytest.raises(JSONLimitError) as refused:
        loads('{"ok": 1, "bad": [0, ' + literal + "]}")
    assert message in refused.value.message
    assert refused.value.path == ["bad", 1]


def test_bad_syntax_is_still_a_json_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads('{"a": ')


def test_paths_read_as_people_write_them() -> None:
    assert format_path(["dialog", 4, "annotation"]) == "dialog[4].annotation"
    assert format_path([3, "a"]) == "[3].a"
    assert format_path([]) == ""
