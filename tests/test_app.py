"""Configuration, demo data, catalogue and the OpenAPI document."""
import pytest
from sqlalchemy import func, select

from app import config as config_module
from app.accounts.models import Member, Staff
from app.catalog.models import Product
from app.demo.seed import DEMO_PASSWORD, seed_demo_data
from app.extensions import db
from app.locations.models import DeliveryArea, Location


def test_production_refuses_to_start_without_a_real_secret(monkeypatch):
    monkeypatch.setenv("STORELINK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config_module.ConfigError):
        config_module.from_environment()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(config_module.ConfigError):
        config_module.from_environment()
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    config = config_module.from_environment()
    assert config["DEMO_DATA"] is False and config["SECRET_KEY"] == "s" * 48


def test_development_key_is_generated_once_into_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STORELINK_ENV", raising=False)
    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    first = config_module.from_environment()["SECRET_KEY"]
    assert len(first) == 64 and (tmp_path / "secret_key").read_text() == first
    assert config_module.from_environment()["SECRET_KEY"] == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'wal.db'}", "SECRET_KEY": "w" * 40,
                      "DEMO_DATA": False})
    with app.app_context():
        assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(db.text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_demo_chain_has_what_the_spec_lists(app, client):
    with app.app_context():
        assert seed_demo_data() is True
        assert seed_demo_data() is False  # only into an empty database
        stores = db.session.execute(select(Location).where(Location.kind == "store")).scalars().all()
        assert len(stores) >= 5 and len({s.city for s in stores}) >= 2
        assert all(s.areas for s in stores) and any(s.fence for s in stores)
        assert db.session.execute(select(func.count()).select_from(DeliveryArea)).scalar_one() >= 10
        assert db.session.execute(select(Location).where(Location.kind == "warehouse")).scalars().all()
        products = db.session.execute(select(Product)).scalars().all()
        assert len(products) >= 30 and len({p.category for p in products}) >= 5
        chicken = next(p for p in products if "烧鸡" in p.name)
        assert (chicken.sold_by, chicken.standard_weight_g) == ("weight", 750) and chicken.price_per_kg > 0
        assert db.session.execute(select(Member.phone)).scalars().all()[0] == "13800000001"
        staff = {s.username: s for s in db.session.execute(select(Staff)).scalars()}
        assert staff["clerk1"].store_id == stores[0].id and staff["clerk2"].store_id == stores[1].id
        assert staff["courier1"].store_id == stores[0].id and staff["admin"].role == "hq"
    for body in ({"phone": "13800000001"}, {"username": "clerk1"}, {"username": "clerk2"},
                 {"username": "courier1"}, {"username": "admin"}):
        r = client.post("/api/v1/auth/login", json={**body, "password": DEMO_PASSWORD})
        assert r.status_code == 200, body


def test_catalogue_lists_price_and_available_stock(app, client):
    from .factories import build_chain
    from .helpers import place

    chain = build_chain(app)
    place(client, chain, items=[("CHICKEN", 2)])
    r = client.get(f"/api/v1/products?location_id={chain.stores['A']}")
    by_sku = {p["sku"]: p for p in r.json["products"]}
    assert "OLD" not in by_sku
    assert by_sku["CHICKEN"]["price"] == 4485 and by_sku["CHICKEN"]["available"] == 48
    assert client.get("/api/v1/products").json["products"][0]["available"] == 200  # 4 locations × 50
    kinds = {s["kind"] for s in client.get("/api/v1/stores").json["stores"]}
    assert kinds == {"store", "warehouse"}
    assert client.get("/api/v1/products?location_id=9999").status_code == 404


def test_openapi_document_names_every_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = rule.rule[len("/api/v1"):].replace("<int:", "{").replace("<", "{").replace(">", "}")
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_session_cookie_serializer_is_built_once_and_still_signs(app):
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is serializer
    assert serializer.loads(serializer.dumps({"cart": 1})) == {"cart": 1}
    app.secret_key = "another-key-" * 4
    assert interface.get_signing_serializer(app) is not serializer  # a new key means a new serializer


def test_session_is_read_from_its_cookie_and_empty_without_one(app):
    interface = app.session_interface
    signed = interface.get_signing_serializer(app).dumps({"cart": 2})
    cookie = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/", headers={"Cookie": f"other=1; {cookie}={signed}"}) as ctx:
        assert dict(interface.open_session(app, ctx.request)) == {"cart": 2}
    with app.test_request_context("/", headers={"Cookie": f"{cookie}=forged"}) as ctx:
        assert dict(interface.open_session(app, ctx.request)) == {}
    with app.test_request_context("/") as ctx:
        assert "HTTP_COOKIE" not in ctx.request.environ
        session = interface.open_session(app, ctx.request)
        assert dict(session) == {} and not session.modified
    app.secret_key = None
    with app.test_request_context("/") as ctx:  # no key: no session at all, as Flask does
        assert interface.open_session(app, ctx.request) is None


def test_json_is_utf8_and_handles_what_payloads_carry(app):
    with app.app_context():
        assert app.json.dumps({"name": "烧鸡", "tags": ("a",)}) == '{"name":"烧鸡","tags":["a"]}'
        assert app.json.loads('{"n": 1}') == {"n": 1}
        with pytest.raises(TypeError):
            app.json.dumps({"x": object()})


def test_json_writes_datetimes_as_utc_rfc3339(app):
    from datetime import datetime, timedelta, timezone

    with app.app_context():
        naive_utc = datetime(2026, 11, 22, 3, 35, 34, 123)
        assert app.json.dumps({"at": naive_utc}) == '{"at":"2026-11-22T03:35:34.000123Z"}'
        assert app.json.dumps({"at": naive_utc.replace(microsecond=0)}) == '{"at":"2026-11-22T03:35:34Z"}'
        china = naive_utc.replace(tzinfo=timezone(timedelta(hours=8)))
        assert app.json.dumps({"at": china}) == '{"at":"2026-11-22T03:35:34.000123+08:00"}'
        # What clients parse back is the instant that was stored.
        parsed = datetime.fromisoformat(app.json.loads(app.json.dumps({"at": naive_utc}))["at"])
        assert parsed == naive_utc.replace(tzinfo=timezone.utc)
