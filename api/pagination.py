"""Cursor pagination on the primary key: no COUNT(*), constant time per page on large tables.

DRF's CursorPagination needs "a unique, unchanging ordering"; the auto-increment id is both
(engineering.md §4.7), whereas created_at can tie within a bulk import.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
