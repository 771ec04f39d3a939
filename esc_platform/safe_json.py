"""The one way the platform parses JSON from outside: bounded nesting, bounded numbers.

Python's parser recurses once per nested array or object, so a few kilobytes of "[" end in a
RecursionError; a number literal of thousands of digits raises a ValueError from `int` (or
becomes a huge integer no database column holds). Websocket frames, API bodies (through
`JSONBodyParser`, DRF's default parser) and imported dataset files all go through `loads`,
which turns every such input into a `JSONLimitError` that says where the problem is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deepest nesting accepted: a chat frame is 1 level deep, an ESConv record about 5.
MAX_DEPTH = 32
# Longest number literal accepted (digits, sign, point and exponent together).
MAX_NUMBER_CHARS = 40

Path = list[str | int]


class JSONLimitError(ValueError):
    """Valid JSON, perhaps, but past a limit; `path` leads to the value (keys and indexes)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path: Path = list(path or [])

    def __str__(self) -> str:
        where = format_path(self.path)
        return f"{self.message} (at {where})" if where else self.message


def format_path(path: Path) -> str:
    """A path as people write it: dialog[4].annotation."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


class _Refused:
    """Stands in for a number the parser met but we refuse; found (with its path) afterwards."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _number_hook(max_chars: int, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(literal: str) -> Any:
        if len(literal) > max_chars:
            return _Refused(f"a number of {len(literal)} characters (at most {max_chars})")
        value = convert(literal)
        if isinstance(value, float) and not math.isfinite(value):
            return _Refused("a number too large to represent")
        return value

    return parse


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a number JSON allows")


def _check_tree(value: Any, max_depth: int) -> None:
    """Walk the parsed value (without recursion): refuse deep nesting and refused numbers."""
    stack: list[tuple[Any, Path]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Refused):
            raise JSONLimitError(node.reason, path)
        if isinstance(node, dict):
            children: Any = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        if len(path) >= max_depth:
            raise JSONLimitError(f"nested deeper than {max_depth} levels", path)
        for key, child in children:
            stack.append((child, [*path, key]))


def _too_deep_at(text: str, max_depth: int) -> Path:
    """Where nesting first passes `max_depth`, by a plain scan (after a RecursionError)."""
    path: Path = []
    in_string = escaped = False
    key = ""
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            else:
                key += char
        elif char == '"':
            in_string, key = True, ""
        elif char in "[{":
            if len(path) >= max_depth:
                return path
            path.append(0 if char == "[" else "")
        elif char in "]}" and path:
            path.pop()
        elif char == ":" and path and isinstance(path[-1], str):
            path[-1] = key
        elif char == "," and path and isinstance(path[-1], int):
            path[-1] += 1
    return path


def loads(
    text: str | bytes, *, max_depth: int = MAX_DEPTH, max_number_chars: int = MAX_NUMBER_CHARS
) -> Any:
    """`json.loads` with limits: JSONDecodeError for bad syntax, JSONLimitError past a limit.

    Both are ValueErrors. NaN and Infinity are refused as numbers JSON does not have.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONLimitError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(
            text,
            parse_int=_number_hook(max_number_chars, int),
            parse_float=_number_hook(max_number_chars, float),
            parse_constant=_constant,
        )
    except RecursionError:
        path = _too_deep_at(text, max_depth)
        raise JSONLimitError(f"nested deeper than {max_depth} levels", path) from None
    _check_tree(value, max_depth)
    return value


class JSONBodyParser(JSONParser):
    """DRF's JSON parser on `loads`: a deep or huge-number body is a 400, never a 500."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (LookupError, UnicodeError) as exc:
            raise ParseError(
                f"JSON parse error - the body is not {encoding} text ({exc})"
            ) from None
        try:
            return loads(text)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
