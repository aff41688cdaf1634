"""The JSON API under /api/v1: thin adapters from HTTP to the domain modules."""
from __future__ import annotations

import errno
from functools import wraps

import psycopg
from flask import Blueprint, Response, current_app, g, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge

from ..accounts.revocation import require_current
from ..errors import DomainError, Forbidden, Unauthorized, ValidationFailed

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error_response(status: int, code: str, message: str, details: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


# Flask's `request`, `current_app` and `g` are proxies: every attribute read through one first fails
# an ordinary lookup (formatting an AttributeError message) and then resolves the context
# (docs/PERFORMANCE.md). The hot adapters below read them a dozen times per request, so they take the
# objects behind the proxies once (`_get_current_object` is the proxies' documented way to do that).
current_request = request._get_current_object
current_application = current_app._get_current_object
request_globals = g._get_current_object


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    """`data` as a JSON response with a status, built directly (jsonify's generic argument handling
    cost a tenth of answering a placed order)."""
    return Response(current_application().json.dumps_bytes(data), status=status, headers=headers,
                    content_type=_JSON)


_JSON = "application/json"


def json_body() -> dict:
    """The request's JSON object, or a 4xx that says exactly what is wrong with it."""
    req = current_request()
    if not req.is_json:
        raise DomainError("请求需要 Content-Type: application/json", code="unsupported_media_type")
    app = current_application()
    try:
        body = app.json.loads(_body_bytes(req, app) or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("请求体不是合法的 JSON", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", code="invalid_body")
    return body


def _body_bytes(req, app) -> bytes:
    """The request body. A body of declared length is read straight from the server's input, with
    werkzeug's checks (too large: 413; shorter than declared: 400): werkzeug's own stream wrapper cost
    a measurable share of an order to read a body of a hundred bytes that sat in the buffer.
    Chunked bodies go through werkzeug. (Not told apart by `wsgi.input_terminated`: gevent's server
    sets it on every request, which sent every body through werkzeug's wrapper.)"""
    environ = req.environ
    length = req.content_length
    if length is None or "HTTP_TRANSFER_ENCODING" in environ:
        return req.get_data(cache=True)
    limit = app.config["MAX_CONTENT_LENGTH"]  # (Flask's per-request override is not used here)
    if limit is not None and length > limit:
        raise RequestEntityTooLarge()
    try:
        data = environ["wsgi.input"].read(length)
    except OSError as exc:  # gevent's server: the connection ended before the declared length
        raise ClientDisconnected() from exc
    if len(data) < length:
        raise ClientDisconnected()
    return data


def optional_json_body() -> dict:
    """For actions whose body is optional (a reason, say): empty means {}."""
    return json_body() if request.content_length else {}


def optional_text(body: dict, name: str, max_len: int = 200) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > max_len:
        raise ValidationFailed(f"{name} 必须是不超过 {max_len} 字的文本", code=f"invalid_{name}")
    return value.strip()


def principal():
    """The authenticated caller, from the bearer token (cached on g)."""
    cache = request_globals()
    who = cache.get("principal")
    if who is None:
        header = current_request().headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized("需要登录(Authorization: Bearer <token>)", code="missing_token")
        who = current_application().extensions["storelink_tokens"].verify(header[7:].strip())
        cache.principal = who = require_current(who)  # deactivated, or the password changed: 401
    return who


def require(*roles: str):
    """Only callers with one of `roles` get through; everyone else gets 401/403 with a code."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            who = principal()
            if who.role not in roles:
                raise Forbidden("没有权限执行此操作", code="forbidden_role")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def optional_int_arg(name: str, *, minimum: int = 0, maximum: int = 1_000_000_000) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    # An empty value is refused like any other non-number (the OpenAPI document says integer); only
    # ASCII digits count ("²".isdigit() is true, and int() refuses it).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not minimum <= int(raw) <= maximum:
        raise ValidationFailed(f"查询参数 {name} 必须是 {minimum} 到 {maximum} 的整数", code="invalid_query")
    return int(raw)


# Werkzeug's own refusals (no such route, wrong method, body too large...) describe themselves in English
# sentences, and the pages show an error's message to shoppers and clerks as it comes: these are said in
# Chinese too. A description that is already Chinese (raised so by our code) is kept.
HTTP_MESSAGES = {
    400: "请求格式不正确", 401: "请先登录", 403: "没有权限访问", 404: "页面或接口不存在", 405: "不支持该请求方法",
    408: "请求超时,请稍后重试", 413: "请求内容过大", 415: "不支持的内容类型", 429: "请求过于频繁,请稍后再试",
}


def http_message(exc: HTTPException) -> str:
    description = exc.description or ""
    if description and not description.isascii():
        return description
    return HTTP_MESSAGES.get(exc.code or 400, "请求无法处理")


def register_error_handlers(app) -> None:
    @app.errorhandler(DomainError)
    def _any_domain_error(exc: DomainError):
        response, status = error_response(exc.status, exc.code, exc.message, exc.details)
        if "retry_after" in exc.details:  # 429 and 503 say when to try again (RFC 9110 §10.2.3)
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        message = http_message(exc)
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            response, status = error_response(exc.code or 400, code, message)
        else:  # a page: the product's own Chinese page with a way back, not Werkzeug's English one
            message = "页面不存在" if exc.code == 404 else message
            response, status = make_response(render_template("error.html", page="error", message=message)), exc.code or 400
        for name, value in exc.get_headers():  # 405's Allow (RFC 9110 §15.5.6), 401's WWW-Authenticate
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if storage_full(exc):  # nothing was written (the transaction rolled back); try again later
            current_app.logger.error("storage full on %s %s: %s", request.method, request.path, exc)
            response, status = error_response(503, "storage_full", "服务器存储空间不足,请稍后再试")
            response.headers["Retry-After"] = "60"
            return response, status
        if database_unavailable(exc):  # no connection to be had (or it dropped): nothing was written
            current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc)
            response, status = error_response(503, "database_unavailable", "服务暂时繁忙,请稍后再试")
            response.headers["Retry-After"] = "5"
            return response, status
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_response(500, "internal_error", "服务器内部错误")
        return "服务器内部错误", 500


SQLITE_FULL = 13  # "database or disk is full"
POSTGRES_DISK_FULL = "53100"  # disk_full; 53xxx are "insufficient resources"
# too_many_connections; admin_shutdown, crash_shutdown, cannot_connect_now (starting up, recovering)
POSTGRES_UNAVAILABLE = {"53300", "57P01", "57P02", "57P03"}
POSTGRES_CONNECTION_EXCEPTION = "08"  # class 08: connection exception


def storage_full(exc: BaseException) -> bool:
    """Whether the database refused a write for want of space (SQLite's SQLITE_FULL, PostgreSQL's
    disk_full), or the server's own disk is full (ENOSPC)."""
    return any(getattr(candidate, "sqlite_errorcode", None) == SQLITE_FULL
               or getattr(candidate, "sqlstate", None) == POSTGRES_DISK_FULL
               or (isinstance(candidate, OSError) and candidate.errno == errno.ENOSPC)
               for candidate in _causes(exc))


def database_unavailable(exc: BaseException) -> bool:
    """Whether no database connection could be had or kept: the pool's wait ran out, PostgreSQL refused
    the connection (too many clients, starting up or shutting down) or could not be reached, or the
    connection broke mid-request. Each rolls the request's transaction back, so the client may retry."""
    for candidate in _causes(exc):
        if isinstance(candidate, PoolTimeout):
            return True
        if isinstance(candidate, DBAPIError) and candidate.connection_invalidated:
            return True
        if isinstance(candidate, psycopg.OperationalError):
            sqlstate = candidate.sqlstate  # None: psycopg's own (refused, unreachable, connection lost)
            if sqlstate is None or sqlstate in POSTGRES_UNAVAILABLE or sqlstate.startswith(POSTGRES_CONNECTION_EXCEPTION):
                return True
    return False


def _causes(exc: BaseException | None):
    """The exception, what it wraps (SQLAlchemy's `orig`) and what caused it, each once."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        original = getattr(exc, "orig", None)
        if original is not None:
            yield original
        exc = exc.__cause__ or exc.__context__


from . import auth, catalog, channels, dayend, devices, hq, member, orders, payments, pickup, regions, returns, staff, weighing, openapi  # noqa: E402,F401  (routes register on bp)
