"""Background work inside the server process: greenlets under gevent, each in an app context.

Jobs are safe to run in every worker at once: each step is a conditional state change.
"""
from __future__ import annotations

import logging

from .extensions import db, socketio

log = logging.getLogger(__name__)


def spawn_in_app(app, fn, *args):
    def run():
        with app.app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()

    return socketio.start_background_task(run)


def _every(app, seconds: int, name: str, fn) -> None:
    def loop():
        while True:
            socketio.sleep(seconds)
            with app.app_context():
                try:
                    fn()
                except Exception:
                    log.exception("background job %s failed", name)
                finally:
                    db.session.remove()

    socketio.start_background_task(loop)


def start_background_jobs(app) -> None:
    from .orders.lifecycle import expire_overdue
    from .payments import provider, refunds
    from .infra.wal_checkpoint import start_wal_checkpointer

    with app.app_context():
        app.extensions["storelink_wal_checkpointer"] = start_wal_checkpointer(db.engine)

    from .escalation.service import escalate_overdue
    from .pickup import deadlines

    config = app.config
    every = config["STORE_JOBS_SWEEP_SECONDS"]
    _every(app, every, "escalate unaccepted orders", lambda: escalate_overdue(config["ESCALATE_AFTER_SECONDS"]))
    _every(app, every, "pickup reminders", deadlines.remind_overdue)
    _every(app, every, "cancel uncollected pickups",
           lambda: deadlines.cancel_uncollected(config["PICKUP_CANCEL_AFTER_SECONDS"]))

    from .realtime import start_revocation_listener

    start_revocation_listener(app)
    from .infra.sqlite_stats import refresh_statistics

    with app.app_context():
        refresh_statistics(db.engine)  # at start: a database restored or grown elsewhere has none
    _every(app, app.config["SQLITE_ANALYZE_SECONDS"], "SQLite statistics", lambda: refresh_statistics(db.engine))
    sweep = app.config["EXPIRY_SWEEP_SECONDS"]
    _every(app, sweep, "expire unpaid orders", expire_overdue)
    _every(app, 15, "retry refunds", refunds.retry_pending)
    from .channels import outbox
    from .channels.platforms import EXTENSION_KEY
    from .payments.http_transport import post_json

    transport = config.get("CHANNEL_TRANSPORT") or post_json
    _every(app, config["CHANNEL_WRITEBACK_SWEEP_SECONDS"], "platform write-back",
           lambda: outbox.deliver_due(app.extensions[EXTENSION_KEY], transport))
    if provider.registered("sandbox"):
        _every(app, 5, "sandbox notifications", lambda: provider.get("sandbox").deliver_due())
