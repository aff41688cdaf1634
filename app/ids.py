"""Row ids: 64-bit signed integers in SQLite and PostgreSQL alike. JSON and URLs can carry larger
numbers (and JSON booleans pass as integers in Python), which the databases refuse with an error
rather than a miss: values are checked before they reach a query."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**63 - 1


def is_row_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """`<int:...>` in StoreLink's URLs: a number no row can have matches no route (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)
