"""Flask's JSON through orjson: every API request parses and every response serialises JSON, and
orjson does both several times faster than the standard library (it writes UTF-8 as is, so Chinese
text stays readable, as ensure_ascii=False would).

Datetimes are written in RFC 3339; naive ones are UTC (the database keeps UTC) and end in Z, e.g.
"2026-11-22T03:35:34.000123Z" (orjson writes them natively, much faster than isoformat)."""
from __future__ import annotations

import orjson
from flask.json.provider import JSONProvider

_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


class OrjsonProvider(JSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, default=_fallback, option=_OPTIONS).decode()

    def dumps_bytes(self, obj) -> bytes:
        return orjson.dumps(obj, default=_fallback, option=_OPTIONS)

    def loads(self, s, **kwargs):
        return orjson.loads(s)

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps_bytes(obj), mimetype="application/json")


def _fallback(value):
    # Types orjson does not know natively and API payloads may carry.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
