"""Third-party platforms: their signed order pushes and cancellations (authenticated by the platform's
signature alone, no bearer token), and HQ's view of the write-back outbox."""
from flask import current_app, request

from ..accounts.models import HQ
from ..channels import inbound, outbox_view
from ..channels.platforms import EXTENSION_KEY, Platform, platform as find_platform
from ..channels.signing import verify
from ..errors import DomainError, ValidationFailed
from ..repositories import reader
from . import bp, json_response, optional_int_arg, optional_text, require
from .serializers import order_dict


def _signed_body(name: str) -> tuple[Platform, dict]:
    """The platform (404 when unknown) and the request's JSON object, once its signature over the raw
    body checks out (401 otherwise)."""
    platform = find_platform(current_app.extensions[EXTENSION_KEY], name)
    raw = request.get_data(cache=True)
    verify(platform.secret, request.headers, raw)
    try:
        body = current_app.json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("请求体不是合法的 JSON", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", code="invalid_body")
    return platform, body


def _answer(order, platform_order_id: str, status: int):
    return json_response({**order_dict(order), "platform_order_id": platform_order_id}, status)


@bp.post("/channels/<platform_name>/orders")
def platform_order(platform_name: str):
    """A platform pushes a paid order for one of our stores: 201 created, 200 the same order again."""
    platform, body = _signed_body(platform_name)
    request_ = inbound.parse_platform_order(body)
    order, created = inbound.receive(platform, request_)
    return _answer(order, request_.platform_order_id, 201 if created else 200)


@bp.post("/channels/<platform_name>/orders/<platform_order_id>/cancel")
def platform_cancel(platform_name: str, platform_order_id: str):
    """The platform cancelled its order ({"reason"} optional)."""
    platform, body = _signed_body(platform_name)
    order = inbound.cancel(platform, platform_order_id, optional_text(body, "reason"))
    return _answer(order, platform_order_id, 200)


@bp.post("/channels/<platform_name>/orders/<platform_order_id>/delivered")
def platform_delivered(platform_name: str, platform_order_id: str):
    """The platform's rider delivered the order the store handed over: completed."""
    platform, _ = _signed_body(platform_name)
    return _answer(inbound.delivered(platform, platform_order_id), platform_order_id, 200)


@bp.get("/hq/channel-outbox")
@require(HQ)
def channel_outbox():
    """Write-backs owed to platforms: pending and failed (default), or ?state=delivered."""
    limit = optional_int_arg("limit", minimum=1, maximum=500) or 100
    return json_response(outbox_view.listing(reader(), current_app.extensions[EXTENSION_KEY],
                                             request.args.get("state") or "open", limit))


@bp.post("/hq/channel-outbox/<int:row_id>/retry")
@require(HQ)
def retry_channel_writeback(row_id: int):
    """A failed write-back is tried again from the first attempt."""
    return json_response(outbox_view.retry(row_id))
