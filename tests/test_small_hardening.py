"""Small items: 405 says what is allowed, the OpenAPI document is as strict as validation, a full
disk answers 503 (nothing written) instead of 500."""
from __future__ import annotations

from sqlalchemy import event, func, select, text

from app.api.openapi import document
from app.extensions import db
from app.orders.models import Order

from .factories import build_chain
from .helpers import place


def test_405_names_the_allowed_methods(client):
    r = client.delete("/api/v1/auth/login")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    assert "POST" in {m.strip() for m in r.headers["Allow"].split(",")}


def _param(path, method, name):
    return next(p for p in document()["paths"][path][method]["parameters"] if p["name"] == name)["schema"]


def test_the_openapi_document_refuses_what_validation_refuses(client):
    assert _param("/orders", "get", "limit")["minimum"] == 1  # limit=0 is a 422
    assert _param("/products", "get", "location_id")["minimum"] == 1  # location_id=0 is a 422
    assert _param("/clerk/orders", "get", "after_id")["minimum"] == 0
    order = document()["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert order["properties"]["items"]["items"]["properties"]["sku"]["minLength"] == 1  # "" is a 422
    assert order["properties"]["address"]["properties"]["province"]["minLength"] == 1
    assert client.get("/api/v1/orders?limit=0").status_code in (401, 422)


def test_a_full_database_answers_503_and_writes_nothing(app, client, backend):
    if backend != "sqlite":
        return  # PostgreSQL's disk_full is recognised by its SQLSTATE; filling a disk is not done here
    chain = build_chain(app)
    assert place(client, chain).status_code == 201
    with app.app_context():
        engine = db.engine
        engine.dispose()  # every connection from here on is capped at the pages the file has now

        @event.listens_for(engine, "connect")
        def _cap(dbapi_connection, _record):
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        with engine.connect() as conn:
            before = conn.execute(select(func.count()).select_from(Order)).scalar_one()
            conn.execute(text("SELECT 1"))
    responses = [place(client, chain, items=[("RICE", 1)], note="x" * 190) for _ in range(40)]
    statuses = {r.status_code for r in responses}
    assert 500 not in statuses and 503 in statuses, statuses
    full = next(r for r in responses if r.status_code == 503)
    assert full.json["error"]["code"] == "storage_full" and full.headers["Retry-After"] == "60"
    with app.app_context():
        event.remove(db.engine, "connect", _cap)
        db.engine.dispose()
        placed = db.session.execute(select(func.count()).select_from(Order)).scalar_one()
        db.session.remove()
    assert placed == before + sum(r.status_code == 201 for r in responses)


def test_integer_query_parameters_refuse_empty_and_non_ascii_digits(client):
    for query in ("location_id=", "location_id=%C2%B2", "location_id=0"):
        r = client.get(f"/api/v1/products?{query}")
        assert r.status_code == 422 and r.json["error"]["code"] == "invalid_query", query


def test_an_unreachable_database_answers_503_with_retry_after(tmp_path):
    """Nothing listens on port 1: every request that needs the database is told to come back, never 500."""
    from app import create_app

    from app.accounts.auth import Principal

    from .conftest import _base_config, auth, token_for

    app = create_app(_base_config("postgresql+psycopg://postgres@127.0.0.1:1/storelink"))
    client = app.test_client()
    member = auth(token_for(app, Principal("member", 1, "member")))  # a valid token: its version is read first
    for path, headers in (("/api/v1/products", {}), ("/api/v1/orders", member)):
        r = client.get(path, headers=headers)
        assert r.status_code == 503, (path, r.status_code, r.data[:200])
        assert r.json["error"]["code"] == "database_unavailable" and r.headers["Retry-After"] == "5"
    with app.app_context():
        db.engine.dispose()


def test_what_counts_as_the_database_being_unavailable():
    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError, TimeoutError as PoolTimeout

    from app.api import database_unavailable

    def wrapped(error):
        return OperationalError("SELECT 1", {}, error)

    assert database_unavailable(wrapped(psycopg.errors.TooManyConnections("sorry, too many clients already")))
    assert database_unavailable(wrapped(psycopg.errors.AdminShutdown("terminating connection")))
    assert database_unavailable(wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")))
    assert database_unavailable(psycopg.OperationalError("connection refused"))  # raw, from the pool's connect
    assert database_unavailable(PoolTimeout("QueuePool limit of size 20 overflow 20 reached"))
    assert not database_unavailable(wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")))
    assert not database_unavailable(IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")))
    assert not database_unavailable(ValueError("a bug"))
