from flask import current_app, jsonify, request

from ..accounts import revocation
from ..accounts.auth import authenticate
from ..accounts.registration import parse_registration, register_member
from ..extensions import db
from ..infra import client_address
from ..repositories import reader
from . import bp, json_body, principal


def account_dict(who) -> dict:
    """The caller as the pages show them: a member's mobile number too (their login, and the contact
    number the checkout offers)."""
    data = who.to_dict()
    if who.is_member:
        contact = reader().accounts.member_contact(who.id)
        data["phone"] = contact.phone if contact is not None else None
    return data


@bp.post("/auth/login")
def login():
    body = json_body()
    who = authenticate(db.session, phone=body.get("phone"), username=body.get("username"), password=body.get("password"),
                       throttle=current_app.extensions["storelink_login_throttle"],
                       address=client_address.of_request(request))
    token = current_app.extensions["storelink_tokens"].issue(who)
    return jsonify(token=token, token_type="Bearer", **account_dict(who))


@bp.post("/auth/register")
def register():
    """A new member (mobile number + password); answers like a login, so the page is logged in at once.
    Attempts count toward the login throttle (per number and per address): "this number is taken" is
    an answer about an account, and each attempt costs a password hash."""
    phone, password, name = parse_registration(json_body())
    attempt = current_app.extensions["storelink_login_throttle"].attempt(f"register:{phone}",
                                                                         client_address.of_request(request))
    who = register_member(phone, password, name)
    attempt.succeeded()
    token = current_app.extensions["storelink_tokens"].issue(who)
    return jsonify(token=token, token_type="Bearer", **account_dict(who)), 201


@bp.get("/auth/me")
def me():
    return jsonify(account_dict(principal()))


@bp.post("/auth/password")
def change_password():
    """The caller's new password; every token issued before stops working, a fresh one is returned."""
    body = json_body()
    who = revocation.change_password(principal(), body.get("old_password"), body.get("new_password"),
                                     throttle=current_app.extensions["storelink_login_throttle"],
                                     address=client_address.of_request(request))
    token = current_app.extensions["storelink_tokens"].issue(who)
    return jsonify(token=token, token_type="Bearer", **account_dict(who))
