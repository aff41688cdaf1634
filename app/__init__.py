"""StoreLink (门店通): the application factory."""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Flask, jsonify

from . import config as config_module
from .accounts.auth import TokenService
from .accounts.throttle import LoginLimits, LoginThrottle, counters_for
from .orders.member_limits import MemberLimits
from .infra.engine import configure_engine, engine_options
from .infra.group_commit import group_commit_for
from .infra.unit_of_work import FACTORY_KEY, own_transactions
from .extensions import db, migrate, socketio
from .ids import RowIdConverter
from .infra.http_server import CachedSessionInterface
from .infra.json_provider import OrjsonProvider

# Models must be imported so metadata (and Alembic) see every table.
from .accounts import models as _accounts  # noqa: F401
from .catalog import models as _catalog  # noqa: F401
from .channels import models as _channels  # noqa: F401
from .dayend import models as _dayend  # noqa: F401
from .delivery import models as _delivery  # noqa: F401
from .devices import models as _devices  # noqa: F401
from . import escalation as _escalation  # noqa: F401
from .locations import models as _locations  # noqa: F401
from .orders import models as _orders  # noqa: F401
from .payments import models as _payments  # noqa: F401
from .pickup import models as _pickup  # noqa: F401
from . import returns as _returns  # noqa: F401
from .payments import sandbox as _sandbox  # noqa: F401
from .shifts import models as _shifts  # noqa: F401
from .stock import models as _stock  # noqa: F401
from .weighing import models as _weighing  # noqa: F401
from . import addresses as _addresses  # noqa: F401
from . import messages as _messages  # noqa: F401


class StoreLinkFlask(Flask):
    json_provider_class = OrjsonProvider


def create_app(config: dict | None = None) -> Flask:
    app = StoreLinkFlask(__name__, template_folder="../templates", static_folder="../static", instance_path=str(config_module.INSTANCE_DIR))
    app.config.update(config_module.from_environment())
    app.config.update(config or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["DB_POOL_SIZE"]
    )
    app.session_interface = CachedSessionInterface()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.PROJECT_DIR / "migrations"))
    from .realtime import pushlog

    # The client manager logs what each room was sent, in delivery order: the catch-up replays from it.
    socketio.init_app(app, message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"], cors_allowed_origins=[],
                      client_manager=pushlog.client_manager(app.config["SOCKETIO_MESSAGE_QUEUE"]))
    with app.app_context():
        configure_engine(db.engine)
        _wire_unit_of_work(app)

    app.extensions["storelink_tokens"] = TokenService(app.config["SECRET_KEY"], app.config["TOKEN_MAX_AGE_SECONDS"])
    app.extensions["storelink_member_limits"] = MemberLimits.from_config(app.config)
    app.extensions["storelink_login_throttle"] = LoginThrottle(LoginLimits.from_config(app.config), counters_for(app.config))
    _register_payment_providers(app)
    _configure_platforms(app)

    from .api import bp as api_bp, register_error_handlers
    from .payments import provider as payment_provider
    from .payments.sandbox_web import bp as sandbox_bp
    from .realtime import init_realtime
    from .web import bp as web_bp
    from .demo.commands import register_commands

    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.register_blueprint(api_bp)
    if payment_provider.registered("sandbox"):
        app.register_blueprint(sandbox_bp)  # its pay page confirms payments for free: never in production
    app.register_blueprint(web_bp)
    register_error_handlers(app)
    _subscribe_message_centre()  # before the pushes: a member told of a change finds its message
    init_realtime()
    register_commands(app)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


def _wire_unit_of_work(app: Flask) -> None:
    """The factory every `unit_of_work()` comes from: UNIT_OF_WORK_FACTORY when a test gives one, else
    group-committed units on SQLite under gevent, else a transaction of its own per unit."""
    from .repositories import StoreLinkUnitOfWork

    factory = app.config.get("UNIT_OF_WORK_FACTORY")
    if factory is None:
        group = group_commit_for(app, db.engine, StoreLinkUnitOfWork)
        if group is not None:
            app.extensions["storelink_group_commit"] = group
        factory = group.unit if group is not None else own_transactions(db.engine, StoreLinkUnitOfWork)
    app.extensions[FACTORY_KEY] = factory


def _subscribe_message_centre() -> None:
    from .events import subscribe
    from .messages.service import on_event

    subscribe(on_event)


def _configure_platforms(app: Flask) -> None:
    """The third-party platforms that may push orders (CHANNEL_* settings, app/channels/platforms.py);
    CHANNEL_PLATFORMS_CONFIG (tests) gives them directly."""
    import os

    from .channels.platforms import EXTENSION_KEY, platforms_from

    given = app.config.get("CHANNEL_PLATFORMS_CONFIG")
    try:
        app.extensions[EXTENSION_KEY] = given if given is not None else platforms_from(app.config, os.environ)
    except ValueError as exc:
        raise config_module.ConfigError(str(exc)) from exc


def _register_payment_providers(app: Flask) -> None:
    from .payments import provider
    from .payments.http_transport import post_json
    from .payments.sandbox import SandboxProvider
    from .jobs import spawn_in_app

    if app.config["PRODUCTION"] and not app.config["ALLOW_SANDBOX_PAYMENTS"]:
        # The sandbox confirms any payment at the press of a button: in production it would hand
        # out goods for free. A registry entry from an earlier app in this process goes too.
        provider.unregister(SandboxProvider.name)
        app.logger.warning("production mode: the sandbox payment provider is NOT registered (no pay page, its "
                           "notifications refused); ALLOW_SANDBOX_PAYMENTS=1 allows it for a staging system")
        return
    if app.config["PRODUCTION"]:
        app.logger.warning("production mode with ALLOW_SANDBOX_PAYMENTS=1: the sandbox payment provider is "
                           "registered and confirms payments without money; staging systems only")
    secret = app.config["SANDBOX_PAYMENT_SECRET"] or hmac.new(
        app.config["SECRET_KEY"].encode(), b"sandbox-payment-provider", hashlib.sha256
    ).hexdigest()
    provider.register(SandboxProvider(
        secret, app.config["PUBLIC_BASE_URL"], transport=app.config.get("SANDBOX_TRANSPORT") or post_json,
        spawn=app.config.get("BACKGROUND_SPAWN") or (lambda fn, *args: spawn_in_app(app, fn, *args)),
    ))
