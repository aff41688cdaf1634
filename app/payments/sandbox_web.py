"""The sandbox provider's own pages (a real provider hosts these on its domain)."""
from flask import Blueprint, current_app, jsonify, render_template, request

from ..errors import DomainError
from . import provider as providers

bp = Blueprint("sandbox_pay", __name__, url_prefix="/sandbox/pay")


def _sandbox():
    return providers.get("sandbox")


@bp.get("/<token>")
def pay_page(token: str):
    payment = _sandbox().read_pay_token(token)
    paid = _sandbox().find_transaction(payment["out_trade_no"]) is not None
    return render_template("sandbox/pay.html", payment=payment, token=token, paid=paid)


@bp.post("/<token>/confirm")
def confirm(token: str):
    wants_json = request.accept_mimetypes.best == "application/json" or request.is_json
    try:
        txn = _sandbox().confirm(token)
    except DomainError as exc:
        if wants_json:
            raise
        payment = _sandbox().read_pay_token(token)
        return render_template("sandbox/pay.html", payment=payment, token=token, paid=True, error=exc.message), exc.status
    if wants_json:
        return jsonify(transaction_id=txn.txn_id, out_trade_no=txn.out_trade_no, amount=txn.amount, status="SUCCESS")
    payment = _sandbox().read_pay_token(token)
    current_app.logger.info("sandbox payment %s confirmed", txn.txn_id)
    return render_template("sandbox/pay.html", payment=payment, token=token, paid=True, just_paid=True)
