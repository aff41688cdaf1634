"""What this process delivered to each store's and member's room, in the order it delivered it: the
catch-up after a reconnect replays from here.

The order-history id an event carries (`event_id`) grows with insertion, not with commit: on PostgreSQL
entry 10 may commit, and be pushed, after entry 11. A client that saw 11 and dropped cannot say from
the id alone whether it saw 10. The order in which this process delivered the room's events can: the
client received them in that order (a socket's frames arrive in order), so what it missed is exactly
what the log holds after the last event it received. The log is fed where Socket.IO delivers to local
sockets (the client manager below, also for events from other workers through the message queue), and
a reconnecting socket is given what it missed and joins its room in one step that never yields to
another greenlet: an event is either in the replay or delivered live, never both, never neither.

A worker remembers the newest MAX_STORE_EVENTS events per store room and MAX_MEMBER_EVENTS per member
room (the members least recently pushed to forgotten first). A client whose last event the log does not
hold (the worker restarted, or it was away too long) is caught up from the order history instead
(catchup.missed_events).
"""
from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from typing import NamedTuple

import socketio

MAX_STORE_EVENTS = 2000
MAX_MEMBER_EVENTS = 50
MAX_MEMBER_ROOMS = 20000
LOGGED_PREFIXES = ("store:", "member:")


class Pushed(NamedTuple):
    seq: int  # this process's delivery order
    event_id: int
    name: str
    payload: dict


class PushLog:
    """One process's delivery log, per (namespace, room) that is a store's or a member's."""

    def __init__(self):
        self._rooms: "OrderedDict[tuple[str, str], deque[Pushed]]" = OrderedDict()
        self._seq = itertools.count(1)

    def record(self, namespace: str | None, room, name: str, data) -> None:
        """Note an event delivered to a room (called by the client manager, just before it delivers)."""
        if not isinstance(room, str) or not room.startswith(LOGGED_PREFIXES):
            return
        payload = data[0] if isinstance(data, list) and len(data) == 1 else data
        event_id = payload.get("event_id") if isinstance(payload, dict) else None
        if not isinstance(event_id, int):
            return
        key = (namespace or "/", room)
        log = self._rooms.get(key)
        if log is None:
            log = self._rooms[key] = deque(maxlen=MAX_STORE_EVENTS if room.startswith("store:") else MAX_MEMBER_EVENTS)
            if len(self._rooms) > MAX_MEMBER_ROOMS:
                self._forget_a_member_room()
        else:
            self._rooms.move_to_end(key)
        log.append(Pushed(next(self._seq), event_id, name, payload))

    def _forget_a_member_room(self) -> None:
        for key in self._rooms:  # least recently pushed to first
            if key[1].startswith("member:"):
                del self._rooms[key]
                return

    def after(self, namespace: str, room: str, event_id: int) -> list[Pushed] | None:
        """What the room was sent after the event `event_id` (after its last delivery), oldest first;
        None when the log does not hold that event."""
        log = self._rooms.get((namespace, room))
        if not log:
            return None
        for index in range(len(log) - 1, -1, -1):
            if log[index].event_id == event_id:
                return list(itertools.islice(log, index + 1, None))
        return None

    def position(self, namespace: str, room: str) -> int:
        """A mark of how far the room's log goes now (for since())."""
        log = self._rooms.get((namespace, room))
        return log[-1].seq if log else 0

    def since(self, namespace: str, room: str, mark: int) -> list[Pushed]:
        """What the room was sent after `mark` (a position()), oldest first."""
        return [pushed for pushed in self._rooms.get((namespace, room), ()) if pushed.seq > mark]

    def last_event_id(self, namespace: str, room: str) -> int | None:
        """The event_id of the newest event the room was sent, if the log has any."""
        log = self._rooms.get((namespace, room))
        return log[-1].event_id if log else None


class LoggingManager(socketio.Manager):
    """The in-process client manager (no message queue), logging room deliveries."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pushlog = PushLog()

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        self.pushlog.record(namespace, to or room, event, data)
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to,
                            **kwargs)


class _LogsPubSubDeliveries:
    """For a message-queue client manager (several workers): logs room deliveries to this worker's
    sockets, its own events and those other workers publish, in the order this worker delivers them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pushlog = PushLog()

    def _handle_emit(self, message):
        self.pushlog.record(message.get("namespace"), message.get("room"), message.get("event"), message.get("data"))
        return super()._handle_emit(message)


class LoggingRedisManager(_LogsPubSubDeliveries, socketio.RedisManager):
    """Redis between the workers (the documented deployment)."""


def of(server) -> PushLog | None:
    """The delivery log of a Socket.IO server's client manager (None for a manager that keeps none)."""
    return getattr(server.manager, "pushlog", None)


def client_manager(url: str | None):
    """The client manager for Flask-SocketIO: in-process, or through the message queue at `url` (the
    same choice of queue Flask-SocketIO makes from the URL's scheme)."""
    if not url:
        return LoggingManager()
    if url.startswith(("redis://", "rediss://")):
        return LoggingRedisManager(url, channel="flask-socketio")
    if url.startswith("kafka://"):
        base = socketio.KafkaManager
    elif url.startswith("zmq"):
        base = socketio.ZmqManager
    else:
        base = socketio.KombuManager
    return type(f"Logging{base.__name__}", (_LogsPubSubDeliveries, base), {})(url, channel="flask-socketio")
