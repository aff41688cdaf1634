"""Socket.IO adapters: authenticate connections and push committed domain events to the right rooms.

/clerk: one room per store, so clerks see their store's new orders live; HQ staff join the `hq` room
        (escalated orders of every store).
/member: one room per member, so shoppers see their own orders move.

Every push carries `event_id`, the id of the order-history entry it announces. A client that connects
with auth {"token", "last_event_id": N} (N: the last event it received) is first sent what its room was
sent after N (pushlog: this worker's delivery log, else catchup.missed_events from the order history),
and joins its room for live pushes in the same step.
"""
from __future__ import annotations

import json
import logging

from flask import current_app, request
from flask_socketio import Namespace, join_room

from ..accounts.revocation import require_current
from ..errors import DomainError
from ..events import DomainEvent, subscribe
from ..extensions import db, socketio
from . import catchup, pushlog

CLERK_NS, MEMBER_NS = "/clerk", "/member"
HQ_ROOM = "hq"
log = logging.getLogger(__name__)


def store_room(store_id: int) -> str:
    return f"store:{store_id}"


def member_room(member_id: int) -> str:
    return f"member:{member_id}"


def account_room(kind: str, account_id: int) -> str:
    """Every socket of one account, so revoking its tokens can close them."""
    return f"account:{kind}:{account_id}"


def _principal(auth):
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if not token:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
    if not token:
        return None
    try:
        return require_current(current_app.extensions["storelink_tokens"].verify(token))
    except DomainError:
        return None


def _last_event_id(auth) -> int | None:
    value = auth.get("last_event_id") if isinstance(auth, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 63:
        return value
    return None  # absent or malformed: no catch-up, live pushes only


def _join(room: str, auth, namespace: str, **scope) -> None:
    """Join `room` now, or, for a reconnecting client, after sending what it missed."""
    after = _last_event_id(auth)
    if after is None:
        join_room(room)
        return
    app, sid = current_app._get_current_object(), request.sid
    # Not inside the connect handler: the client only accepts events once the connection is confirmed,
    # which happens when the handler returns.
    socketio.start_background_task(_replay_then_join, app, sid, namespace, room, after, scope)


def _replay_then_join(app, sid: str, namespace: str, room: str, after: int, scope: dict) -> None:
    with app.app_context():
        try:
            pushes = _missed(namespace, room, after, scope)
            # From here until the socket is in its room nothing yields to another greenlet (local sends
            # only queue frames): each event is either replayed here or delivered live, exactly once.
            for name, payload in pushes:
                socketio.server.emit(name, {**payload, "replayed": True}, namespace=namespace, to=sid,
                                     ignore_queue=True)
            socketio.server.enter_room(sid, room, namespace=namespace)
        finally:
            db.session.remove()


def _missed(namespace: str, room: str, after: int, scope: dict) -> list[tuple[str, dict]]:
    """What a client that last received event `after` has missed, oldest first: from this worker's
    delivery log when it holds that event (exact), else from the order history (pushlog explains)."""
    log = pushlog.of(socketio.server)
    logged = log.after(namespace, room, after) if log is not None else None
    if logged is not None:
        return [(pushed.name, pushed.payload) for pushed in logged]
    mark = log.position(namespace, room) if log is not None else 0
    with db.engine.connect() as connection:
        pushes = catchup.missed_events(connection, after_id=after, **scope)
    # Delivered to the room while the history was read: sent too, unless the history had it.
    known = {(name, payload["event_id"]) for name, payload in pushes}
    later = log.since(namespace, room, mark) if log is not None else []
    return pushes + [(p.name, p.payload) for p in later if (p.name, p.event_id) not in known]


def resume_point(connection, store_id: int) -> int:
    """Where a fresh clerk screen of the store starts counting (`last_event_id`): the last event this
    worker delivered to the store's room, else the newest history entry (catchup.latest_event_id)."""
    log = pushlog.of(socketio.server)
    logged = log.last_event_id(CLERK_NS, store_room(store_id)) if log is not None else None
    return logged if logged is not None else catchup.latest_event_id(connection)


class ClerkNamespace(Namespace):
    def on_connect(self, auth=None):
        who = _principal(auth)
        if who is None or who.role not in ("clerk", "courier", "hq") or (who.store_id is None and not who.is_hq):
            return False  # refused: Socket.IO tells the client the connection was rejected
        if who.store_id is not None:
            _join(store_room(who.store_id), auth, CLERK_NS, location_id=who.store_id)
        if who.is_hq:
            join_room(HQ_ROOM)  # chain-wide notices (print failures, escalated orders)
        join_room(account_room(who.kind, who.id))
        return True


class MemberNamespace(Namespace):
    def on_connect(self, auth=None):
        who = _principal(auth)
        if who is None or not who.is_member:
            return False
        _join(member_room(who.id), auth, MEMBER_NS, member_id=who.id)
        join_room(account_room(who.kind, who.id))
        return True


def disconnect_account(kind: str, account_id: int) -> None:
    """Closes this process's sockets of the account (its tokens were revoked)."""
    room = account_room(kind, account_id)
    for namespace in (CLERK_NS, MEMBER_NS):
        for sid, _ in list(socketio.server.manager.get_participants(namespace, room)):
            socketio.server.disconnect(sid, namespace=namespace)


# Other workers hold sockets too: with a Redis message queue, a revocation is published here and
# every worker's listener (start_revocation_listener) closes its own sockets of the account.
REVOKED_CHANNEL = "storelink:account.revoked"
_publishers: dict = {}


def _broadcast_revocation(kind: str, account_id: int) -> None:
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if url:
        import redis

        client = _publishers.get(url) or _publishers.setdefault(url, redis.Redis.from_url(url, socket_timeout=2))
        client.publish(REVOKED_CHANNEL, json.dumps({"kind": kind, "id": account_id}))


def start_revocation_listener(app) -> None:
    url = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url:
        return

    def listen():
        import redis

        while True:
            try:
                pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(REVOKED_CHANNEL)
                for message in pubsub.listen():
                    revoked = json.loads(message["data"])
                    disconnect_account(revoked["kind"], revoked["id"])
            except Exception:  # the queue went away: listen again shortly
                log.exception("revocation listener failed; resubscribing")
                socketio.sleep(1)

    socketio.start_background_task(listen)


def push(event: DomainEvent) -> None:
    payload = event.payload
    if event.name == "account.revoked":
        disconnect_account(payload["kind"], payload["id"])
        _broadcast_revocation(payload["kind"], payload["id"])
    elif event.name == "order.new":
        socketio.emit("order.new", payload, namespace=CLERK_NS, to=store_room(payload["location_id"]))
    elif event.name == "order.status":
        if catchup.store_hears_status(payload["status"]):
            socketio.emit("order.status", payload, namespace=CLERK_NS, to=store_room(payload["location_id"]))
        if payload.get("member_id"):
            socketio.emit("order.status", payload, namespace=MEMBER_NS, to=member_room(payload["member_id"]))
    elif event.name == "order.escalated":
        socketio.emit("order.escalated", payload, namespace=CLERK_NS, to=store_room(payload["location_id"]))
        socketio.emit("order.escalated", payload, namespace=CLERK_NS, to=HQ_ROOM)


_registered_on = None


def init_realtime() -> None:
    """Register namespaces on the current Socket.IO server (each create_app makes a new one: tests
    create many apps) and the event pusher once per process."""
    global _registered_on
    if _registered_on is not socketio.server:
        socketio.on_namespace(ClerkNamespace(CLERK_NS))
        socketio.on_namespace(MemberNamespace(MEMBER_NS))
        _registered_on = socketio.server
    subscribe(push)
    from .bridge import init_bridge

    init_bridge()
