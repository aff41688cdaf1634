"""schemathesis against /api/v1/openapi.json: generated requests (valid and invalid) for every
operation, each sent as a member, a clerk and HQ. Zero 5xx and zero conformance failures (status
codes, content types and response bodies as documented; valid data accepted, invalid refused).

The application is built when this module is imported (schemathesis reads the document from it at
collection); its SQLite database is migrated and given the demo chain before the first case runs."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import create_app
from app.accounts.auth import principal_of
from app.accounts.models import Member, Staff
from app.demo.seed import seed_demo_data
from app.extensions import db

from .conftest import _base_config

DEMO_CALLERS = ({"phone": "13800000001"}, {"username": "clerk1"}, {"username": "admin"})  # member, clerk, HQ
EXAMPLES_PER_OPERATION = 3
# Requests whose addresses (or region codes) must be real national divisions, which a schema cannot
# express: a schema-valid address is mostly refused with 422 there, so the "valid data is accepted"
# check does not apply to these operations (every other check does). A phone order is an order body
# too (and its online payment needs the caller to be a member, which no schema can say either).
DIVISION_CHECKED = {("POST", "/stores/match"), ("POST", "/orders"), ("POST", "/orders/quote"),
                    ("POST", "/me/addresses"), ("GET", "/regions"), ("POST", "/hq/orders")}

_DIR = Path(tempfile.mkdtemp(prefix="storelink-schema-"))
APP = create_app(_base_config(f"sqlite:///{_DIR / 'schema.db'}", BACKGROUND_SPAWN=lambda *_: None,
                              LOGIN_MAX_FAILURES_PER_ACCOUNT=1_000_000, LOGIN_MAX_FAILURES_PER_ADDRESS=1_000_000,
                              LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS=1_000_000))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


HEADERS: list[dict] = []  # one Authorization header per demo caller, filled once the database exists


@pytest.fixture(scope="module", autouse=True)
def demo_database():
    from flask_migrate import upgrade

    with APP.app_context():
        upgrade()
        seed_demo_data()
        tokens = APP.extensions["storelink_tokens"]
        for caller in DEMO_CALLERS:
            model, (field, value) = (Member if "phone" in caller else Staff), next(iter(caller.items()))
            account = db.session.query(model).filter(getattr(model, field) == value).one()
            HEADERS.append({"Authorization": f"Bearer {tokens.issue(principal_of(account))}"})
        db.session.remove()
    yield
    with APP.app_context():
        db.engine.dispose()


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    excluded = [positive_data_acceptance] if (case.method.upper(), case.path) in DIVISION_CHECKED else []
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        case.call_and_validate(excluded_checks=excluded)  # the case is about its headers: sent as generated
        return
    for headers in HEADERS:  # every generated request as each of the three kinds of caller
        case.call_and_validate(headers=headers, excluded_checks=excluded)
