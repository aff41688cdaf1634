"""The delivery log the catch-up replays from: what a room was sent after the last event a client
received, in delivery order, even when ids were pushed out of order (PostgreSQL commits entry 11 before
entry 10)."""
from app.realtime.pushlog import MAX_MEMBER_EVENTS, PushLog

ROOM = ("/clerk", "store:1")


def _push(log, event_id, name="order.status", room=ROOM):
    log.record(room[0], room[1], name, {"event_id": event_id, "order_id": event_id})


def test_what_came_after_the_last_received_event_in_delivery_order():
    log = PushLog()
    for event_id in (9, 11, 10, 12):  # 10 committed (and was pushed) after 11
        _push(log, event_id)
    assert [p.event_id for p in log.after(*ROOM, 11)] == [10, 12]  # 10 is not lost to a larger id
    assert [p.event_id for p in log.after(*ROOM, 10)] == [12]  # nor sent again to one that saw it
    assert log.after(*ROOM, 12) == []
    assert log.after(*ROOM, 7) is None  # not held: the caller falls back to the order history
    assert log.last_event_id(*ROOM) == 12


def test_only_store_and_member_rooms_with_event_ids_are_logged():
    log = PushLog()
    log.record("/clerk", "hq", "order.escalated", {"event_id": 1})
    log.record("/clerk", "sid-abc", "order.new", {"event_id": 2})
    log.record("/clerk", "store:1", "scale.reading", {"weight_g": 5})
    log.record("/member", "member:3", "order.status", [{"event_id": 4}])
    assert log.after("/clerk", "hq", 1) is None and log.after("/clerk", "sid-abc", 2) is None
    assert log.last_event_id(*ROOM) is None
    assert log.last_event_id("/member", "member:3") == 4


def test_since_a_mark_and_bounded_rooms():
    log = PushLog()
    _push(log, 1)
    mark = log.position(*ROOM)
    _push(log, 2)
    _push(log, 3, room=("/member", "member:1"))
    assert [p.event_id for p in log.since(*ROOM, mark)] == [2]
    for event_id in range(100, 100 + MAX_MEMBER_EVENTS + 5):
        _push(log, event_id, room=("/member", "member:1"))
    assert log.after("/member", "member:1", 3) is None  # forgotten: too long ago
    assert len(log.after("/member", "member:1", 100 + 5)) == MAX_MEMBER_EVENTS - 1  # the oldest held
