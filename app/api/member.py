"""The member's own things: saved addresses and the message centre."""
from flask import jsonify

from .. import addresses
from ..accounts.models import MEMBER
from ..extensions import db
from ..messages import service as messages
from ..repositories import reader
from . import bp, json_body, optional_int_arg, principal, require


@bp.get("/me/addresses")
@require(MEMBER)
def list_addresses():
    return jsonify(addresses=[a.to_dict() for a in addresses.of_member(reader(), principal().id)])


@bp.post("/me/addresses")
@require(MEMBER)
def save_address():
    return jsonify(addresses.save(principal().id, json_body()).to_dict()), 201


@bp.delete("/me/addresses/<int:address_id>")
@require(MEMBER)
def delete_address(address_id: int):
    addresses.remove(principal().id, address_id)
    return "", 204


@bp.get("/me/messages")
@require(MEMBER)
def list_messages():
    return jsonify(messages.inbox(reader(), principal().id,
                                  before_id=optional_int_arg("before_id", minimum=1)))


@bp.post("/me/messages/<int:message_id>/read")
@require(MEMBER)
def read_message(message_id: int):
    messages.mark_read(principal().id, message_id)
    return jsonify(unread=messages.unread_count(reader(), principal().id))


@bp.post("/me/messages/read-all")
@require(MEMBER)
def read_all_messages():
    messages.mark_read(principal().id)
    return jsonify(unread=0)
