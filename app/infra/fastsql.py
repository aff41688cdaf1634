"""Prebuilt statements executed straight on the DB-API cursor, for the hottest write paths.

SQLAlchemy Core's per-execution bookkeeping costs several times the driver's own work, and the order
path runs several statements per request (figures in docs/PERFORMANCE.md). A FastStatement is an ordinary Core
statement compiled once per dialect; executing it converts parameters and results with the column
types' own dialect processors (so SQLite dates and JSON are stored exactly as SQLAlchemy stores them)
and then calls the driver directly, inside the unit of work's transaction.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from operator import itemgetter
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Select
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert


_MISSING = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameter names, in order for positional drivers
    positional: bool
    # Per parameter, in `names` order: (name, what fills it when the caller does not give it).
    plan: tuple[tuple[str, Callable[[], Any] | None], ...]
    take: Callable[[dict], tuple]  # the values of `names` from a dict that has them all, in one C call
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # (index, bind processor) where one applies
    row: type | None
    # Result columns that need converting: (index, processor).
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]
    dbapi_error: type


class FastStatement:
    def __init__(self, statement, *, columns: list[str] | None = None):
        """`statement`: a Core statement, or {dialect name: statement} where the SQL must differ (an
        upsert). `columns`: for an INSERT, the columns it sets; by default every column but a generated id."""
        self._by_dialect = statement if isinstance(statement, dict) else None
        if self._by_dialect:
            statement = next(iter(self._by_dialect.values()))
        self.statement = statement
        if columns is None and isinstance(statement, Insert):
            generated = statement.table.autoincrement_column
            columns = [c.key for c in statement.table.columns if c is not generated]
        self._columns = columns
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect) -> _Compiled:
        statement = self._by_dialect[dialect.name] if self._by_dialect else self.statement
        compiled = statement.compile(dialect=dialect, column_keys=self._columns)
        names = tuple(compiled.positiontup or compiled.binds.keys())
        fills = self._fills(statement, compiled, names)
        plan = tuple((name, fills.get(name)) for name in names)
        processed = tuple((index, processor) for index, name in enumerate(names)
                          if (processor := _bind_processor(compiled.binds[name].type, dialect)) is not None)
        # A SELECT's columns, or the RETURNING columns of an INSERT/UPDATE (none: a rowcount).
        columns = list(statement.selected_columns if isinstance(statement, Select) else statement.exported_columns)
        row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None
        converters = tuple(
            (index, processor) for index, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        )
        return _Compiled(compiled.string, names, bool(compiled.positiontup), plan, _taker(names), processed,
                         row, converters, dialect.loaded_dbapi.Error)

    def _fills(self, statement, compiled, names) -> dict[str, Callable[[], Any]]:
        """What supplies a parameter the caller leaves out: a value the statement binds itself (a
        constant in a WHERE clause) or, for an INSERT, the column's Python-side default."""
        fills = {name: (lambda value=param.value: value)
                 for name, param in compiled.binds.items() if not param.required}
        if isinstance(statement, Insert):
            for column in statement.table.columns:
                default = column.default
                if column.key in names and default is not None:
                    fills[column.key] = (lambda d=default: d.arg(None)) if default.is_callable else (lambda d=default: d.arg)
        return fills

    @staticmethod
    def _parameters(compiled: _Compiled, params: dict):
        try:
            values = compiled.take(params)
        except KeyError:  # some left to the statement's own constants and the columns' defaults
            values = _filled(compiled, params)
        if compiled.processed:
            values = list(values)
            for index, processor in compiled.processed:
                if values[index] is not None:
                    values[index] = processor(values[index])
        return tuple(values) if compiled.positional else dict(zip(compiled.names, values))

    def execute(self, connection, params: dict | None = None):
        """Run on a SQLAlchemy Connection's DB-API connection; returns rows (a list) or the rowcount.
        Driver errors surface as SQLAlchemy's exceptions (IntegrityError, ...), as with Core."""
        compiled, cursor = self._run(connection, params)
        try:
            return cursor.rowcount if compiled.row is None else _rows(compiled, cursor.fetchall())
        finally:
            cursor.close()

    def insert(self, connection, params: dict) -> int | None:
        """Run a one-row INSERT; returns the row's generated id, or None when ON CONFLICT DO NOTHING
        skipped it. The id comes from RETURNING where the statement has it, else from the driver's
        lastrowid: on SQLite, RETURNING costs a fifth of the insert."""
        compiled, cursor = self._run(connection, params)
        try:
            if compiled.row is not None:
                row = cursor.fetchone()
                return row[0] if row is not None else None
            return cursor.lastrowid if cursor.rowcount == 1 else None
        finally:
            cursor.close()

    def _run(self, connection, params):
        """Execute on a new cursor of the connection's DB-API connection; the caller reads and closes it."""
        compiled = self._compiled.get(connection.dialect.name) or self._for(connection.dialect)
        values = self._parameters(compiled, params or {})
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, values)
        except BaseException as exc:
            cursor.close()
            if isinstance(exc, compiled.dbapi_error):
                raise DBAPIError.instance(compiled.sql, values, exc, compiled.dbapi_error) from exc
            raise
        return compiled, cursor

    def first(self, connection, params: dict | None = None):
        rows = self.execute(connection, params)
        return rows[0] if rows else None

    def execute_many(self, connection, rows: list[dict]) -> None:
        compiled = self._for(connection.dialect)
        values = [self._parameters(compiled, r) for r in rows]
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(compiled.sql, values)
        except compiled.dbapi_error as exc:
            raise DBAPIError.instance(compiled.sql, values, exc, compiled.dbapi_error) from exc
        finally:
            cursor.close()


def _taker(names: tuple[str, ...]) -> Callable[[dict], tuple]:
    if len(names) == 1:
        name = names[0]
        return lambda params: (params[name],)
    return itemgetter(*names) if names else (lambda params: ())


def _filled(compiled: _Compiled, params: dict) -> list:
    values = []
    for name, fill in compiled.plan:
        value = params.get(name, _MISSING)
        if value is _MISSING:
            if fill is None:
                raise KeyError(f"parameter {name!r} missing")
            value = fill()
        values.append(value)
    return values


_new_tuple = tuple.__new__  # builds a row straight from the driver's tuple (namedtuple._make is Python)


def _rows(compiled: _Compiled, raw_rows: list) -> list:
    row = compiled.row
    if not compiled.converters:
        return [_new_tuple(row, raw) for raw in raw_rows]
    rows = []
    for raw in raw_rows:
        values = list(raw)
        for index, processor in compiled.converters:
            if values[index] is not None:
                values[index] = processor(values[index])
        rows.append(_new_tuple(row, values))
    return rows


def _bind_processor(type_, dialect):
    impl = type_.dialect_impl(dialect)
    processor = impl.bind_processor(dialect)
    if isinstance(impl, SQLITE_DATETIME) and impl._storage_format == SQLITE_DATETIME._storage_format:
        return _sqlite_datetime(processor)
    return processor


# The texts of the last two naive datetimes bound, shared by every DATETIME parameter (they all use
# SQLAlchemy's default format): the times a state change stamps on its rows are mostly one `now`
# object (an order's created and updated times and its 'placed' event), and isoformat is the dearest
# part of binding them. (datetime, text, older datetime, its text), replaced whole.
_recent_datetime_texts = (None, None, None, None)


def _sqlite_datetime(general):
    """SQLAlchemy's SQLite DATETIME text ("2026-11-22 03:35:34.000123") by isoformat, which writes
    the same digits several times faster; anything but a naive datetime takes SQLAlchemy's own path."""

    def process(value):
        global _recent_datetime_texts
        seen = _recent_datetime_texts
        if value is seen[0]:
            return seen[1]
        if value is seen[2]:
            return seen[3]
        if type(value) is datetime and value.tzinfo is None:
            text = value.isoformat(" ", "microseconds")
            _recent_datetime_texts = (value, text, seen[0], seen[1])
            return text
        return general(value)

    return process
