"""JSON bodies with a nesting limit: Python's json module recurses once per level, so a body of
100,000 opening brackets raised RecursionError (HTTP 500). The depth is counted before parsing,
in one pass over the brackets and string quotes, and a body nested deeper than
`API_JSON_MAX_DEPTH` (default 32; the deepest resource body is 3 levels) is a 400."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_TOKENS = re.compile(rb'[\[\]{}"\\]')


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings ignored)."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1  # the position of the character after a backslash in a string
    for match in _TOKENS.finditer(body):
        token, position = match.group(), match.start()
        if in_string:
            if position == escaped_at:
                continue
            if token == b"\\":
                escaped_at = position + 1
            elif token == b'"':
                in_string = False
            continue
        if token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        body = stream.read() if stream is not None else b""
        limit = settings.API_JSON_MAX_DEPTH
        if json_depth(body) > limit:
            raise ParseError(f"JSON parse error - the body is nested more than {limit} levels deep.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
