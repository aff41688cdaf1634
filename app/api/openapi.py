"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""
from flask import jsonify

from . import bp

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER = [{"bearer": []}]


def _op(summary, *, roles=None, body=None, ok=200, ok_schema=None, errors=(400, 401, 403, 404, 409, 422), params=()):
    op = {"summary": summary, "responses": {str(ok): {"description": "OK", "content": {"application/json": {"schema": ok_schema or {"type": "object"}}}}}}
    for status in errors:
        op["responses"][str(status)] = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
    if roles:
        op["security"] = BEARER
        op["x-roles"] = list(roles)
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = list(params)
    return op


ROW_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}  # app/ids.py
QUERY_ID = {"type": "integer", "minimum": 1, "maximum": 1_000_000_000}  # api.optional_int_arg
NON_BLANK = "\\S"  # (unanchored) at least one character that is not white space


def _path_id(name="order_id"):
    # 0 and beyond are routed (no row has them: 404); negative numbers match no route.
    return {"name": name, "in": "path", "required": True, "schema": ROW_ID | {"minimum": 0}}


def _query(name, schema):
    return {"name": name, "in": "query", "required": False, "schema": schema}


ADDRESS = {
    "type": "object", "required": ["province", "city", "district", "street"],
    "properties": {k: {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NON_BLANK}
                   for k in ("province", "city", "district", "street")}
    | {"detail": {"type": "string", "maxLength": 200}, "lat": {"type": "number", "minimum": -90, "maximum": 90},
       "lng": {"type": "number", "minimum": -180, "maximum": 180}},
    "dependentRequired": {"lat": ["lng"], "lng": ["lat"]},
    "description": "province / city / district must be national divisions (GET /regions); others are refused with 422",
}
ITEMS = {"type": "array", "minItems": 1, "maxItems": 50, "items": {
    "type": "object", "required": ["sku", "qty"],
    "properties": {"sku": {"type": "string", "minLength": 1, "maxLength": 32},
                   "qty": {"type": "integer", "minimum": 1, "maximum": 999}}},
    "description": "a SKU may appear more than once; its quantities together must not exceed 999"}
ORDER_REQUEST = {
    "type": "object", "required": ["items", "fulfilment"],
    "properties": {
        "items": ITEMS, "fulfilment": {"enum": ["pickup", "store_delivery", "express"]},
        "payment": {"enum": ["online", "cod", "at_store"], "default": "online"}, "store_id": ROW_ID,
        "address": ADDRESS, "contact_name": {"type": "string", "maxLength": 50},
        "contact_phone": {"type": "string", "maxLength": 50}, "note": {"type": "string", "maxLength": 200},
        "accept_method_change": {"type": "boolean", "default": True,
                                 "description": "false: answer 409 fulfilment_changed instead of switching a store delivery to express"},
    },
}
PHONE_ORDER_REQUEST = {**ORDER_REQUEST, "required": ["items", "fulfilment", "caller_phone"], "properties": {
    **ORDER_REQUEST["properties"],
    "caller_phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$",
                     "description": "the caller's mobile number: a member's order is theirs; others pay cod or at_store"}}}
ORDER = {"$ref": "#/components/schemas/Order"}
WEIGHINGS = {"type": "object", "required": ["lines"], "properties": {"lines": {
    "type": "array", "minItems": 1, "maxItems": 50, "items": {
        "type": "object", "required": ["line_id", "weight_g", "source"],
        "properties": {"line_id": {"type": "integer"}, "weight_g": {"type": "integer", "minimum": 0, "maximum": 100000},
                       "source": {"enum": ["scale", "typed"]}, "device_id": {"type": "integer"}}}}}}
SETTLEMENT = {"type": "object", "required": ["settlement"], "properties": {
    "settlement": {"enum": ["none", "refund", "add_goods", "topup", "cash", "waive", "amount_due"]},
    "reason": {"type": "string", "maxLength": 200, "description": "required to waive"},
    "sku": {"type": "string", "description": "add_goods: the goods added (default: the line's own)"},
    "qty": {"type": "integer", "minimum": 1, "maximum": 99}}}
WEIGHING_STATEMENT = {"type": "object", "properties": {
    "order_id": {"type": "integer"}, "lines": {"type": "array"}, "all_settled": {"type": "boolean"},
    "topup_due": {"type": "integer", "description": "cents the member still has to pay"},
    "amount_due": {"type": ["integer", "null"], "description": "cash on delivery: cents to collect"},
    "totals": {"type": "object"}, "receipt": {"type": "array", "items": {"type": "string"}}}}
PICKUP_VERIFY = {
    "type": "object", "required": ["code"],
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": NON_BLANK,
                 "description": "the scanned QR payload or the 12-digit typed code"},
        "confirm": {"type": "boolean", "default": False, "description": "false: preview; true: hand over"},
        "lines": {"type": "array", "maxItems": 50, "description": "partial pickup: lines and quantities handed over now (default: all remaining)",
                  "items": {"type": "object", "required": ["line_id", "qty"], "properties": {
                      "line_id": {"type": "integer", "minimum": 1}, "qty": {"type": "integer", "minimum": 1}}}},
        "payment": {"enum": ["cash", "card"], "description": "how a pay-at-store order was paid at the counter"},
    },
}
REASON = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}}
_YMD = "2\\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])"  # app.dayend.service: years 2000-2999
BUSINESS_DATE = {"type": "string", "format": "date", "pattern": f"^{_YMD}$", "description": "business date, China time (UTC+8)"}
CLOSE_DAY = {"type": "object", "required": ["date"], "properties": {"date": BUSINESS_DATE, "store_id": ROW_ID | {"description": "the clerk's own store when left out"}}}
_COUNT = {"type": "object", "properties": {"count": {"type": "integer"}, "amount": {"type": "integer", "description": "cents"}}}
DAY_REPORT = {"type": "object", "required": ["store", "business_date", "status", "sales", "payments", "refunds", "net_takings"], "properties": {
    "store": {"type": "object"}, "business_date": {"type": "string"}, "status": {"enum": ["open", "closed"]}, "ended": {"type": "boolean"},
    "closed_at": {"type": ["string", "null"]}, "closed_by": {"type": ["string", "null"]},
    "sales": {"type": "object", "description": "orders completed that day: count, amount, by_channel, by_payment_method"},
    "payments": {"type": "object", "description": "payments received that day: by_route (online, store_cash, store_card, cod_cash), topups"},
    "refunds": {"type": "object", "description": "refunds made that day by_route (original, at_store); paid_out at the counter (cash, card)"},
    "net_takings": {"type": "integer", "description": "payments − refunds, cents"}, "drawer_cash": {"type": "integer"},
    "sales_orders": {"type": "array"}}}
SHIFT = {"type": "object", "required": ["shift_no", "expected_cash"], "properties": {
    "store_id": {"type": "integer"}, "shift_no": {"type": "integer"}, "opened_at": {"type": ["string", "null"]},
    "as_of": {"type": "string"}, "expected_cash": {"type": "integer", "description": "cents"}}}
REFUND = {"type": "object", "properties": {
    "id": {"type": "integer"}, "order_id": {"type": "integer"}, "amount": {"type": "integer", "description": "cents"},
    "status": {"enum": ["pending", "succeeded", "failed", "at_store"]}, "status_label": {"type": "string"},
    "route": {"enum": ["original", "store"], "description": "store: owed at the store's counter (cash or card)"},
    "payout_method": {"type": ["string", "null"]}, "paid_out_by": {"type": ["string", "null"]},
    "done_at": {"type": ["string", "null"]}}}

RETURN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "order_id": {"type": "integer"}, "order_number": {"type": "string"},
    "status": {"enum": ["requested", "approved", "refused", "withdrawn", "shipped", "refunded"]},
    "status_label": {"type": "string"}, "reason": {"type": "string"}, "reason_label": {"type": "string"},
    "amount": {"type": "integer", "description": "cents: the returned lines' paid value"},
    "refund_route": {"enum": ["original", "store"], "description": "store: cash taken at the store, refunded at its counter"},
    "refuse_reason": {"type": "string"}, "carrier": {"type": "string"}, "tracking_no": {"type": "string"},
    "received_by": {"type": ["string", "null"]}, "lines": {"type": "array"}}}
RETURN_REASONS = ["quality", "damaged", "wrong_item", "not_as_described", "not_wanted", "other"]
RETURN_PATHS = {
    "/orders/{order_id}/returns": {"post": _op(
        "申请退货: lines of the member's own completed order (at most what was handed over and not yet asked back), "
        "within RETURN_WINDOW_DAYS of completion; weighed fresh lines are refused (weighed_line_not_returnable)",
        roles=["member"], ok=201, ok_schema=RETURN, params=(_path_id(),), body={
            "type": "object", "required": ["lines", "reason"], "properties": {
                "lines": {"type": "array", "minItems": 1, "maxItems": 50, "items": {
                    "type": "object", "required": ["line_id", "qty"],
                    "properties": {"line_id": ROW_ID, "qty": {"type": "integer", "minimum": 1, "maximum": 999}}},
                    "description": "a line listed more than once: its quantities are added"},
                "reason": {"enum": RETURN_REASONS},
                "note": {"type": "string", "maxLength": 200, "description": "required when reason is other"}},
            "if": {"properties": {"reason": {"const": "other"}}, "required": ["reason"]},
            "then": {"required": ["note"], "properties": {"note": {"minLength": 1, "pattern": NON_BLANK}}}})},
    "/me/returns": {"get": _op("The member's returns, newest first", roles=["member"],
                               ok_schema={"type": "object", "properties": {"returns": {"type": "array", "items": RETURN}}})},
    "/returns/{return_id}/withdraw": {"post": _op("The member withdraws a return HQ has not decided yet", roles=["member"],
                                                  ok_schema=RETURN, params=(_path_id("return_id"),))},
    "/returns/{return_id}/ship": {"post": _op("The member sent an approved return's goods by courier", roles=["member"],
                                              ok_schema=RETURN, params=(_path_id("return_id"),), body={
        "type": "object", "required": ["carrier", "tracking_no"],
        "properties": {"carrier": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": NON_BLANK},
                       "tracking_no": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NON_BLANK}}})},
    "/hq/returns": {"get": _op("Returns of the chain, newest first (by status)", roles=["hq"], params=(
        _query("status", {"enum": ["requested", "approved", "refused", "withdrawn", "shipped", "refunded"]}),),
        ok_schema={"type": "object", "properties": {"returns": {"type": "array", "items": RETURN}}})},
    "/hq/returns/{return_id}/approve": {"post": _op("HQ approves a requested return", roles=["hq"], ok_schema=RETURN,
                                                    params=(_path_id("return_id"),))},
    "/hq/returns/{return_id}/refuse": {"post": _op("HQ refuses a requested return, with the reason the member sees",
                                                   roles=["hq"], ok_schema=RETURN, params=(_path_id("return_id"),), body={
        "type": "object", "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NON_BLANK}}})},
    "/clerk/returns": {"get": _op("Approved returns whose goods come back to the clerk's store, and those received lately",
                                  roles=["clerk"], ok_schema={"type": "object", "properties": {
                                      "to_receive": {"type": "array", "items": RETURN}, "received": {"type": "array", "items": RETURN}}})},
    "/clerk/returns/{return_id}/receive": {"post": _op(
        "电商退货: the goods arrived at the order's store (HQ: any location); restocked there and refunded to the "
        "original route (cash: owed at the counter), once; 409 already_received names who did it",
        roles=["clerk", "hq"], ok_schema=RETURN, params=(_path_id("return_id"),))},
}


DEVICE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "store_id": {"type": "integer"}, "name": {"type": "string"},
    "token_hint": {"type": "string"}, "online": {"type": "boolean"}, "revoked": {"type": "boolean"},
    "last_seen_at": {"type": ["string", "null"]}, "scale": {"type": ["object", "null"]}, "printers": {"type": "array"}}}
PRINT_JOB = {"type": "object", "properties": {
    "job_id": {"type": "integer"}, "order_id": {"type": ["integer", "null"]}, "device_id": {"type": "integer"},
    "kind": {"enum": ["receipt", "pickup_ticket", "delivery_note", "drawer_kick"]},
    "status": {"enum": ["queued", "printed", "failed", "expired"]}, "error": {"type": "string"}}}
JOB_STATUS_QUERY = _query("status", {"enum": ["queued", "printed", "failed", "expired"]})
# Third-party platforms: authenticated by the platform's HMAC-SHA256 signature over "<timestamp>.<raw body>"
# (README "Third-party platforms"), not by a bearer token.
_PLATFORM = {"name": "platform_name", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "a configured platform (meituan, eleme, ...); unknown: 404 unknown_platform"}
_SIGNED = ({"name": "X-Platform-Timestamp", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "Unix seconds; outside 5 minutes: 401 stale_signature"},
           {"name": "X-Platform-Signature", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "hex HMAC-SHA256 of '<timestamp>.<raw body>' with the platform's secret; missing: 401 missing_signature, wrong: 401 bad_signature"})
_PLATFORM_ORDER_ID = {"name": "platform_order_id", "in": "path", "required": True,
                      "schema": {"type": "string", "maxLength": 64}}
PLATFORM_ORDER = {
    "type": "object", "required": ["platform_order_id", "items", "address", "paid", "paid_amount"],
    "oneOf": [{"required": ["store_id"]}, {"required": ["store_code"]}],
    "properties": {
        "platform_order_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NON_BLANK},
        "store_id": ROW_ID, "store_code": {"type": "string", "minLength": 1, "maxLength": 32},
        "items": {**ITEMS, "items": {**ITEMS["items"], "properties": {
            **ITEMS["items"]["properties"], "price": {"type": "integer", "description": "the platform's unit price (fen), informational"}}}},
        "customer_name": {"type": "string", "maxLength": 50}, "customer_phone": {"type": "string", "maxLength": 20},
        "address": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NON_BLANK},
        "paid": {"const": True, "description": "the platform collected the money"},
        "paid_amount": {"type": "integer", "minimum": 0, "maximum": 100_000_000, "description": "fen"},
        "platform_total": {"type": "integer", "minimum": 0, "maximum": 100_000_000, "description": "fen, informational"},
        "note": {"type": "string", "maxLength": 200},
    },
}
OUTBOX_ROW = {"type": "object", "properties": {
    "id": {"type": "integer"}, "platform": {"type": "string"}, "order_id": {"type": "integer"}, "number": {"type": "string"},
    "location_id": {"type": "integer"}, "status": {"type": "string"}, "state": {"enum": ["pending", "delivered", "failed"]},
    "attempts": {"type": "integer"}, "next_attempt_at": {"type": "string"}, "last_error": {"type": "string"},
    "created_at": {"type": "string"}, "delivered_at": {"type": ["string", "null"]}, "label": {"type": "string"}}}


def _platform_op(summary, body, path_params=()):
    op = _op(summary, body=body, ok_schema={"$ref": "#/components/schemas/Order"}, errors=(400, 401, 404, 409, 422),
             params=(_PLATFORM, *path_params, *_SIGNED))
    op["responses"]["200"]["description"] = "the order (a repeated push: the order it created)"
    op["responses"]["201"] = {**op["responses"]["200"], "description": "the order, created"}
    return op


PLATFORM_PATHS = {
    "/channels/{platform_name}/orders": {"post": {**_platform_op(
        "A delivery platform pushes a paid order for one of our stores (signed); 201 created, 200 the same push again",
        PLATFORM_ORDER)}},
    "/channels/{platform_name}/orders/{platform_order_id}/cancel": {"post": _platform_op(
        "The platform cancelled its order (signed): stock released; again: the cancelled order", REASON,
        (_PLATFORM_ORDER_ID,))},
    "/channels/{platform_name}/orders/{platform_order_id}/delivered": {"post": _platform_op(
        "The platform's rider delivered the order the store handed over (signed, body {}): completed; again: the same order",
        {"type": "object"},
        (_PLATFORM_ORDER_ID,))},
    "/hq/channel-outbox": {"get": _op("Status write-backs owed to platforms: pending and failed (state=open, default), or one state",
                                      roles=["hq"], ok_schema={"type": "object", "properties": {"rows": {"type": "array", "items": OUTBOX_ROW}}},
                                      params=(_query("state", {"enum": ["open", "pending", "failed", "delivered"]}),
                                              _query("limit", {"type": "integer", "minimum": 1, "maximum": 500})))},
    "/hq/channel-outbox/{row_id}/retry": {"post": _op("A failed write-back tried again from its first attempt", roles=["hq"],
                                                      params=(_path_id("row_id"),))},
}
# Hardware bridges and print jobs (the bridges themselves speak Socket.IO on /bridge, see README).
DEVICE_PATHS = {
    "/hq/devices": {
        "post": _op("Register a hardware bridge for a store; its token is in this answer only", roles=["hq"], ok=201,
                    body={"type": "object", "required": ["store_id", "name"], "properties": {
                        "store_id": ROW_ID, "name": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": NON_BLANK}}},
                    ok_schema={"type": "object", "properties": {"device": DEVICE, "token": {"type": "string"}}}),
        "get": _op("Every bridge, online or not, with its scale and printers", roles=["hq"],
                   params=(_query("store_id", QUERY_ID),)),
    },
    "/hq/devices/{device_id}/revoke": {"post": _op("Revoke a bridge's token; its open connection is cut at once",
                                                   roles=["hq"], params=(_path_id("device_id"),))},
    "/hq/print-jobs": {"get": _op("Recent print jobs of the chain (or a store)", roles=["hq"],
                                  params=(_query("store_id", QUERY_ID), JOB_STATUS_QUERY))},
    "/clerk/devices": {"get": _op("The store's bridges", roles=["clerk", "hq"])},
    "/clerk/print-jobs": {"get": _op("The store's recent print jobs", roles=["clerk", "hq"], params=(JOB_STATUS_QUERY,))},
    "/clerk/orders/{order_id}/print": {"post": _op(
        "Print or reprint an order's receipt, pickup ticket or delivery note on the store's bridge", roles=["clerk", "hq"],
        ok=202, body={"type": "object", "properties": {"kind": {"enum": ["receipt", "pickup_ticket", "delivery_note"],
                                                               "default": "receipt"}}},
        ok_schema={"type": "object", "properties": {"job": PRINT_JOB}}, params=(_path_id(),))},
    "/clerk/drawer/open": {"post": _op("Kick the store's cash drawer open", roles=["clerk"], ok=202)},
    "/clerk/devices/{device_id}/scale/{command}": {"post": _op(
        "Zero, tare or clear the tare of the store's scale (protocols with commands, e.g. Toledo 8217)",
        roles=["clerk", "hq"], ok=202, params=(_path_id("device_id"), {"name": "command", "in": "path", "required": True,
                                                                        "schema": {"enum": ["zero", "tare", "clear_tare"]}}))},
}


def document() -> dict:
    id_param = (_path_id(),)
    return {
        "openapi": "3.1.0",
        "info": {"title": "StoreLink 门店通 API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "paths": DEVICE_PATHS | RETURN_PATHS | PLATFORM_PATHS | {
            "/auth/login": {"post": _op("Log in with phone (member) or username (staff); 429 with Retry-After when throttled",
                                        errors=(400, 401, 403, 404, 409, 422, 429), body={
                "type": "object", "required": ["password"],
                "oneOf": [{"required": ["phone"]}, {"required": ["username"]}],
                "properties": {"phone": {"type": "string", "minLength": 1, "maxLength": 50},
                               "username": {"type": "string", "minLength": 1, "maxLength": 50},
                               "password": {"type": "string", "minLength": 1, "maxLength": 200}}})},
            "/auth/register": {"post": _op("Register a member with a mobile number; answers like login", ok=201, body={
                "type": "object", "required": ["phone", "password"],
                "properties": {"phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"},
                               "password": {"type": "string", "minLength": 8, "maxLength": 128,
                                            "allOf": [{"pattern": "[A-Za-z]"}, {"pattern": "[0-9]"}],
                                            "description": "letters and digits"},
                               "name": {"type": "string", "maxLength": 50}}})},
            "/regions": {"get": _op("Administrative divisions one level below parent (provinces without it)",
                                    params=(_query("parent", {"type": "string", "pattern": "^([0-9]{1,12})?$"}),))},
            "/stores/pickup-options": {"post": _op("Stores to collect the cart from, nearest first, with stock", body={
                "type": "object", "required": ["items"],
                "dependentRequired": {"lat": ["lng"], "lng": ["lat"]},
                "properties": {"items": ITEMS, "lat": {"type": "number", "minimum": -90, "maximum": 90},
                               "lng": {"type": "number", "minimum": -180, "maximum": 180}}})},
            "/orders/quote": {"post": _op("What placing would do: location, routing reason, fee, method change",
                                          roles=["member"], body=ORDER_REQUEST)},
            "/orders/{order_id}/confirm-receipt": {"post": _op("确认收货 of a shipped, paid delivery", roles=["member"],
                                                               ok_schema=ORDER, params=id_param)},
            "/me/addresses": {"get": _op("The member's saved addresses", roles=["member"]),
                              "post": _op("Save an address (validated against the divisions)", roles=["member"], ok=201, body={
                                  "type": "object", "required": ["address", "contact_name", "contact_phone"],
                                  "properties": {"address": ADDRESS | {"required": [*ADDRESS["required"], "detail"],
                                                                       "properties": ADDRESS["properties"] | {"detail": {
                                                                           "type": "string", "minLength": 1, "maxLength": 200, "pattern": NON_BLANK}}},
                                                 "contact_name": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": NON_BLANK},
                                                 "contact_phone": {"type": "string", "pattern": "^\\s*1[3-9][0-9]{9}\\s*$"}}})},
            "/me/addresses/{address_id}": {"delete": _op("Delete a saved address", roles=["member"], ok=204,
                                                         params=(_path_id("address_id"),))},
            "/me/messages": {"get": _op("The member's message centre, newest first", roles=["member"],
                                        params=(_query("before_id", QUERY_ID),))},
            "/me/messages/{message_id}/read": {"post": _op("Mark a message read", roles=["member"],
                                                           params=(_path_id("message_id"),))},
            "/me/messages/read-all": {"post": _op("Mark every message read", roles=["member"])},
            "/auth/me": {"get": _op("The caller's role and store (and a member's mobile number, `phone`)", roles=["member", "clerk", "courier", "hq"])},
            "/auth/password": {"post": _op("Change the caller's password; every earlier token is revoked, a fresh one returned",
                                           roles=["member", "clerk", "courier", "hq"], errors=(400, 401, 403, 404, 409, 422, 429), body={
                "type": "object", "required": ["old_password", "new_password"],
                "properties": {"old_password": {"type": "string", "minLength": 1, "maxLength": 200},
                               "new_password": {"type": "string", "minLength": 8, "maxLength": 200}}})},
            "/hq/staff/{staff_id}/deactivate": {"post": _op("Take a staff account out of service: its tokens are refused, its sockets closed",
                                                            roles=["hq"], params=(_path_id("staff_id"),))},
            "/products": {"get": _op("Catalogue with available stock", params=(_query("location_id", QUERY_ID), _query("category", {"type": "string"})))},
            "/stores": {"get": _op("Stores and warehouses", params=(_query("kind", {"enum": ["store", "warehouse"]}),))},
            "/stores/match": {"post": _op("Address → delivering store and reason", body={
                "type": "object", "required": ["address"], "properties": {"address": ADDRESS, "items": ITEMS}})},
            "/orders": {
                "post": _op("Place an order (Idempotency-Key header honoured)", roles=["member"], body=ORDER_REQUEST,
                            ok=201, ok_schema=ORDER, params=({"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 100}},)),
                "get": _op("List orders visible to the caller", roles=["member", "clerk", "courier", "hq"],
                           params=(_query("limit", {"type": "integer", "minimum": 1, "maximum": 100}), _query("before_id", QUERY_ID), _query("status", {"type": "string"}))),
            },
            "/hq/orders": {"post": _op("A phone order (400 客服) placed by HQ for a caller found by mobile number",
                                       roles=["hq"], body=PHONE_ORDER_REQUEST, ok=201, ok_schema=ORDER)},
            "/orders/{order_id}": {"get": _op("Order detail with its event history", roles=["member", "clerk", "courier", "hq"], ok_schema=ORDER, params=id_param)},
            "/orders/{order_id}/pay": {"post": _op("Start a payment; returns the provider's pay URL (503 payment_unavailable when no provider is configured)", roles=["member"], params=id_param, errors=(400, 401, 403, 404, 409, 422, 503))},
            "/orders/{order_id}/cancel": {"post": _op("Cancel (refunds a paid order)", roles=["member", "hq"], body=REASON, ok_schema=ORDER, params=id_param)},
            "/orders/{order_id}/pickup-qr.png": {"get": {**_op("The pickup QR (a signed, expiring token) of the member's own paid pickup order", roles=["member"], params=id_param, errors=(401, 403, 404, 409)),
                                                          "responses": {"200": {"description": "PNG image", "content": {"image/png": {}}}, **{str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for s in (401, 403, 404, 409)}}}},
            "/clerk/pickups/verify": {"post": _op("Verify a pickup code: preview, or hand over (confirm) all or some lines; pay-at-store orders are paid here", roles=["clerk"], body=PICKUP_VERIFY, errors=(400, 401, 403, 404, 409, 410, 422, 429))},
            "/payments/{provider}/notify": {"post": _op("Signed asynchronous payment notification", params=({"name": "provider", "in": "path", "required": True, "schema": {"type": "string"}},))},
            "/clerk/orders": {"get": _op("The store's open orders", roles=["clerk", "hq"], params=(_query("after_id", QUERY_ID | {"minimum": 0}), _query("status", {"type": "string"}), _query("store_id", QUERY_ID)))},
            "/clerk/orders/{order_id}/{action}": {"post": _op("accept / ready / ship (ship: {carrier, tracking_no} or {courier_id}; neither: the clerk delivers it)", roles=["clerk", "hq"], body={
                "type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}, "carrier": {"type": "string", "maxLength": 32},
                                                 "tracking_no": {"type": "string", "maxLength": 64}, "courier_id": {"type": "integer"}}}, ok_schema=ORDER, params=(_path_id(), {"name": "action", "in": "path", "required": True, "schema": {"enum": ["accept", "ready", "ship"]}}))},
            "/hq/escalations": {"get": _op("Orders escalated for waiting too long to be accepted, still waiting", roles=["hq"])},
            "/clerk/couriers": {"get": _op("The store's active couriers (for self-delivery)", roles=["clerk"])},
            "/clerk/deliveries": {"get": _op("Deliveries waiting for 回店校验: COD cash to count, rejected goods to check in", roles=["clerk"])},
            "/clerk/deliveries/{order_id}/check-back": {"post": _op("回店校验: count COD cash (difference recorded, order paid) or check rejected goods back in (restock, refund a paid order)", roles=["clerk", "hq"], body={
                "type": "object", "properties": {"cash_counted": {"type": "integer", "minimum": 0, "description": "cents"}}}, ok_schema=ORDER, params=id_param)},
            "/clerk/refunds": {"get": _op("Refunds owed at the store's counter (money taken at the store: pay-at-store, cash on delivery), and the ones recently paid out", roles=["clerk"],
                                          ok_schema={"type": "object", "properties": {"owed": {"type": "array", "items": REFUND}, "paid_out": {"type": "array", "items": REFUND}}})},
            "/clerk/refunds/{refund_id}/pay-out": {"post": _op("A refund owed at the store handed over the counter (who, when, how): once; 409 already_paid_out names who did it", roles=["clerk"], body={
                "type": "object", "required": ["method"], "properties": {"method": {"enum": ["cash", "card"]}}}, ok_schema=REFUND, params=(_path_id("refund_id"),))},
            "/courier/deliveries": {"get": _op("The courier's own deliveries still out: address, contact, cash to collect", roles=["courier"])},
            "/courier/deliveries/{order_id}/delivered": {"post": _op("Delivered and signed for (COD: with the cash collected)", roles=["courier", "clerk", "hq"], body={
                "type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}, "cash_collected": {"type": "integer", "minimum": 0, "description": "cents"}}}, ok_schema=ORDER, params=id_param)},
            "/courier/deliveries/{order_id}/rejected": {"post": _op("Rejected at the door (拒签): goods come back, restocked and refunded at check-back", roles=["courier", "clerk", "hq"], body=REASON, ok_schema=ORDER, params=id_param)},
            "/clerk/orders/{order_id}/weighings": {
                "post": _op("Re-weigh fresh goods: each weighed line's difference and settlement choices",
                            roles=["clerk"], body=WEIGHINGS, ok_schema=WEIGHING_STATEMENT, params=id_param),
                # 405: an id beyond any row's matches only the POST route's pattern (werkzeug answers 405)
                "get": _op("The order's re-weighing statement with the receipt's lines", roles=["clerk", "hq"],
                           ok_schema=WEIGHING_STATEMENT, params=id_param, errors=(400, 401, 403, 404, 405, 409, 422)),
            },
            "/clerk/orders/{order_id}/lines/{line_id}/settlement": {"post": _op(
                "Settle a weighed line's difference (refund, add_goods, topup, cash, waive, amount_due)",
                roles=["clerk"], body=SETTLEMENT, ok_schema=WEIGHING_STATEMENT, params=(_path_id(), _path_id("line_id")))},
            "/orders/{order_id}/weighings": {"get": _op("The order's re-weighing statement (top-up due, amount due)",
                                                        roles=["member", "clerk", "courier", "hq"],
                                                        ok_schema=WEIGHING_STATEMENT, params=id_param)},
            "/orders/{order_id}/topup": {"post": _op(
                "Start the top-up payment (补款) for heavier weighed lines; returns the provider's pay URL",
                roles=["member"], params=id_param)},
            "/clerk/day-end": {"get": _op("The clerk's store's sales daily report (销售日报) of a business date (China time): live while open, the snapshot once closed",
                                          roles=["clerk"], ok_schema=DAY_REPORT, params=(_query("date", BUSINESS_DATE) | {"required": True}, _query("store_id", QUERY_ID)))},
            "/clerk/day-end/close": {"post": _op("Close the store's business day (日结): 409 day_not_ended before it ended in China time, 409 day_already_closed when closed (once under races); another store: 403 other_store",
                                                 roles=["clerk"], body=CLOSE_DAY, ok_schema=DAY_REPORT)},
            "/hq/day-ends": {"get": _op("A store's sales daily report of a business date (live while open, the snapshot once closed)", roles=["hq"], ok_schema=DAY_REPORT,
                                        params=(_query("store_id", QUERY_ID) | {"required": True}, _query("date", BUSINESS_DATE) | {"required": True}))},
            "/hq/day-ends/close": {"post": _op("Close a store's business day (日结)", roles=["hq"], body=CLOSE_DAY | {"required": ["store_id", "date"]}, ok_schema=DAY_REPORT)},
            "/hq/day-ends/{store_id}/{name}": {"get": {**_op("ERP export of a closed day: <date>.json or <date>.csv (UTF-8 with BOM), or <date>?format=json|csv; 409 day_not_closed",
                                                             roles=["hq"], params=(_path_id("store_id"), {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "pattern": f"^{_YMD}(\\.(json|csv))?$"}},
                                                                                   _query("format", {"enum": ["json", "csv"]}))),
                                                       "responses": {"200": {"description": "the ERP document", "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {}}},
                                                                     **{str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for s in (400, 401, 403, 404, 409, 422)}}}},
            "/clerk/shifts/current": {"get": _op("The store's open shift (交接班): number, since when, the cash expected in the drawer now", roles=["clerk"], ok_schema=SHIFT)},
            "/clerk/shifts/close": {"post": _op("Hand the drawer over: the counted cash against the expected, difference recorded (长款/短款); 409 shift_already_closed (once under races)",
                                                roles=["clerk"], body={"type": "object", "required": ["shift_no", "counted_cash"], "properties": {
                                                    "shift_no": {"type": "integer", "minimum": 1, "description": "the open shift's number (GET /clerk/shifts/current)"},
                                                    "counted_cash": {"type": "integer", "minimum": 0, "maximum": 100_000_000, "description": "cents"},
                                                    "note": {"type": "string", "maxLength": 200}}})},
            "/clerk/shifts": {"get": _op("The store's shift handovers, newest first", roles=["clerk"])},
            "/hq/stock": {"post": _op("Set or adjust on-hand stock", roles=["hq"], body={
                "type": "object", "required": ["location_id", "sku"],
                "oneOf": [{"required": ["on_hand"]}, {"required": ["delta"]}],
                "properties": {"location_id": ROW_ID, "sku": {"type": "string"}, "on_hand": {"type": "integer"}, "delta": {"type": "integer"}}})},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}},
                "Order": {"type": "object", "required": ["id", "number", "status", "payment_status", "total", "lines"],
                          "properties": {"id": {"type": "integer"}, "number": {"type": "string"}, "status": {"type": "string"},
                                         "payment_status": {"type": "string"}, "total": {"type": "integer", "description": "cents"},
                                         "lines": {"type": "array"}, "events": {"type": "array"},
                                         "refunds": {"type": "array", "items": REFUND},
                                         "returns": {"type": "array", "items": RETURN,
                                                     "description": "the member's returns of a completed order (member only)"},
                                         "return_options": {"type": ["object", "null"],
                                                            "description": "while the order may be returned: deadline, reasons, returnable units per line"}}},
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
