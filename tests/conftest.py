"""Test fixtures: a fresh migrated database per test, on SQLite always and on PostgreSQL when available.

PostgreSQL tests skip with a reason when the server is absent, unless STORELINK_REQUIRE_SERVICES=1
(set by .ci/run), which turns that skip into a failure.
"""
from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from app import create_app
from app.accounts.auth import Principal
from app.extensions import db

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("STORELINK_REQUIRE_SERVICES") == "1"
FAST_HASH = generate_password_hash("secret-pass", method="pbkdf2:sha256:1000")


def pytest_addoption(parser):
    parser.addoption("--backends", default="sqlite,postgresql", help="database backends to run against")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", metafunc.config.getoption("--backends").split(","), scope="session")


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "not available here"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _base_config(url: str, **extra) -> dict:
    return {
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "DEMO_DATA": False, "SECRET_KEY": "t" * 40,
        "PUBLIC_BASE_URL": "http://localhost", "DB_POOL_SIZE": 20,
        # Off by default here (tests place many orders per member); test_expiry_and_limits.py sets them.
        "MAX_UNPAID_ORDERS_PER_MEMBER": 0, "MAX_UNPAID_UNITS_PER_MEMBER": 0, **extra,
    }


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(_base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(backend, tmp_path_factory):
    """Migrate once per session: a template SQLite file, or a freshly rebuilt PostgreSQL schema."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        _migrate(f"sqlite:///{path}")
        return str(path)
    if backend == "postgresql":
        problem = _postgres_reachable()
        if problem:
            message = f"PostgreSQL at {urlsplit(PG_URL).netloc} is not available ({problem})"
            if REQUIRE_SERVICES:
                pytest.fail(message + " and STORELINK_REQUIRE_SERVICES=1 demands it")
            pytest.skip(message)
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(PG_URL)
        return PG_URL
    raise ValueError(f"unknown backend {backend}")


class Deferred:
    """Collects background work (the sandbox's notification delivery) so tests decide when it runs."""

    def __init__(self):
        self.calls = []

    def __call__(self, fn, *args):
        self.calls.append((fn, args))

    def run_all(self, app):
        calls, self.calls = self.calls, []
        results = []
        for fn, args in calls:
            with app.app_context():
                results.append(fn(*args))
                db.session.remove()
        return results


@pytest.fixture
def deferred():
    return Deferred()


@pytest.fixture
def app(backend, database_template, tmp_path, deferred):
    if backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(database_template, path)
        url = f"sqlite:///{path}"
    else:
        url = database_template
        engine = create_engine(url)
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(text(
                "select tablename from pg_tables where schemaname='public' and tablename <> 'alembic_version'"))]
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
    holder = {}

    def transport(url_, body, headers):
        # The sandbox posts its notification to our own app, as it would over HTTP.
        client = holder["app"].test_client()
        return client.post(urlsplit(url_).path, data=body, headers=headers).status_code

    application = create_app(_base_config(url, SANDBOX_TRANSPORT=transport, BACKGROUND_SPAWN=deferred))
    holder["app"] = application
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def token_for(app, principal: Principal) -> str:
    return app.extensions["storelink_tokens"].issue(principal)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
