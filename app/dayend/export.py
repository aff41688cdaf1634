"""A closed day as the ERP reads it: sales orders, outbound lines and invoice lines, as JSON or as one
CSV (UTF-8 with a BOM, so Excel shows the Chinese). Column names are stable (README "ERP export")."""
from __future__ import annotations

import csv
import io

from ..ledger import SALE
from .service import local_iso

CSV_COLUMNS = ("record_type", "store_code", "business_date", "order_number", "completed_at", "channel",
               "payment_method", "sku", "name", "qty", "unit_price", "amount", "location_code")


def erp_document(store, closed, movements, lines) -> dict:
    """The closed day's ERP document (amounts in cents)."""
    head = {"store_code": store.code, "business_date": closed.business_date.isoformat()}
    return {
        **head, "store_name": store.name, "closed_at": local_iso(closed.closed_at),
        "sales_orders": [{**head, "order_number": m.order_number, "completed_at": local_iso(m.at), "channel": m.channel,
                          "payment_method": m.payment_method, "amount": m.amount}
                         for m in movements if m.kind == SALE],
        "outbound_lines": [{**head, "order_number": line["order_number"], "sku": line["sku"], "name": line["name"],
                            "qty": line["qty"], "location_code": line["location_code"]}
                           for line in lines if line["kind"] == "goods"],
        "invoice_lines": [{**head, "order_number": line["order_number"], "sku": line["sku"], "name": line["name"],
                           "qty": line["qty"], "unit_price": line["unit_price"], "amount": line["amount"]}
                          for line in lines],
    }


def erp_csv(document: dict) -> bytes:
    """The document as one CSV: a row per sales order, outbound line and invoice line, told apart by
    `record_type` (sales_order, outbound_line, invoice_line); columns a record has not are empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record_type, key in (("sales_order", "sales_orders"), ("outbound_line", "outbound_lines"),
                             ("invoice_line", "invoice_lines")):
        for row in document[key]:
            writer.writerow({"record_type": record_type, **row})
    return ("\ufeff" + out.getvalue()).encode("utf-8")
