from flask import jsonify, request

from ..payments.service import apply_notification
from . import bp


@bp.post("/payments/<provider>/notify")
def payment_notification(provider: str):
    """The provider's signed asynchronous notification. 2xx tells it to stop retrying."""
    out_trade_no, outcome = apply_notification(provider, request.get_data(), request.headers)
    return jsonify(code="SUCCESS", outcome=outcome, out_trade_no=out_trade_no)
