"""Helpers that drive the API the way a phone would."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from .factories import ADDR_TIANPING


def place(client, chain, who="m0", items=(("MILK", 1),), fulfilment="pickup", store="A", headers=None, **extra):
    body = {"items": [{"sku": s, "qty": q} for s, q in items], "fulfilment": fulfilment, **extra}
    if fulfilment == "pickup" and store:
        body["store_id"] = chain.stores[store]
    if fulfilment != "pickup" and "address" not in body:
        body["address"] = ADDR_TIANPING
    return client.post("/api/v1/orders", json=body, headers={**chain.h(who), **(headers or {})})


def pay_url(client, chain, order_id, who="m0") -> str:
    r = client.post(f"/api/v1/orders/{order_id}/pay", headers=chain.h(who))
    assert r.status_code == 200, r.json
    return r.json["pay_url"]


def confirm_payment(client, url: str):
    """The shopper presses 确认支付 on the sandbox provider's page."""
    path = url.split("://", 1)[1].split("/", 1)[1]
    return client.post(f"/{path}/confirm", headers={"Accept": "application/json"})


def pay(app, client, chain, order_id, deferred, who="m0"):
    """Full payment through the sandbox: pay page confirm, then the asynchronous notification."""
    assert confirm_payment(client, pay_url(client, chain, order_id, who)).status_code == 200
    assert deferred.run_all(app) == [True]


def get_order(client, chain, order_id, who="m0"):
    r = client.get(f"/api/v1/orders/{order_id}", headers=chain.h(who))
    assert r.status_code == 200, r.json
    return r.json


def race(n: int, fn):
    """Run fn(i) for i in range(n) on n threads released at the same instant; returns results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))
