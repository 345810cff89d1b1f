"""Cursor pagination on the primary key: no COUNT(*), constant time per page on large tables.

DRF's CursorPagination needs "a unique, unchanging ordering"; the auto-increment id is both
(engineering.md §4.7), whereas created_at can tie within a bulk import.

A cursor is opaque to clients but comes back from them: one that does not decode, or whose
position is not an id, is a 404 "Invalid cursor" (DRF's own answer to an undecodable cursor),
never a database error.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request: Any) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not _is_id(str(cursor.position)):
            raise NotFound(self.invalid_cursor_message)
        return cursor


def _is_id(position: str) -> bool:
    return position.isascii() and position.isdigit() and len(position) <= 18
