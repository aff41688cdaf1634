from .factories import build_chain, stock_row


def test_place_pickup_order_reserves_stock(app, client):
    chain = build_chain(app)
    r = client.post("/api/v1/orders", json={"items": [{"sku": "MILK", "qty": 2}], "fulfilment": "pickup",
                                            "store_id": chain.stores["A"]}, headers=chain.h("m0"))
    assert r.status_code == 201, r.json
    assert r.json["status"] == "pending_payment"
    assert r.json["total"] == 3180
    assert stock_row(app, chain.stores["A"], chain.products["MILK"]) == (50, 2)
