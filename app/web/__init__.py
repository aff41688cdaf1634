"""The pages: server-rendered HTML shells (templates/<page>/index.html extending base.html) whose small
vanilla JS modules (static/js/) talk to the JSON API with a bearer token kept in localStorage.

One function per path. The mall is `/`; the clerk centre (`/clerk`), the courier page (`/courier`) and
the back office (`/hq`) are added here the same way: `return render_page("clerk")`.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, render_template, url_for

bp = Blueprint("web", __name__)

PAGES = ("mall", "clerk", "courier", "hq")


def render_page(page: str, **context):
    """The shell of `page`: templates/<page>/index.html with `page` set (the JS keys its token on it)."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page}")
    return render_template(f"{page}/index.html", page=page, **context)


# The mall is one page whose script routes by path (history.pushState); each of its paths serves the
# same shell, so a reload, a shared link or the payment provider's return lands in the right view.
@bp.get("/")
@bp.get("/cart")
@bp.get("/checkout")
@bp.get("/orders")
@bp.get("/messages")
@bp.get("/me")
def mall():
    return render_page("mall")


@bp.get("/products/<sku>")
def product_page(sku: str):
    return render_page("mall")


@bp.get("/orders/<int:order_id>")
def order_page(order_id: int):
    """Where the payment provider returns the shopper (the order's return URL)."""
    return render_page("mall")


@bp.get("/orders/<int:order_id>/pickup")
def pickup_page(order_id: int):
    return render_page("mall")


@bp.get("/orders/<int:order_id>/return")
def return_page(order_id: int):
    """申请退货 of a completed order."""
    return render_page("mall")


@bp.get("/clerk")
def clerk_centre():
    """店员中心 (clerk centre); HQ staff get the escalations of every store there."""
    return render_page("clerk")


@bp.get("/courier")
def courier_page():
    """配送员: the courier's own deliveries."""
    return render_page("courier")


@bp.get("/hq")
def hq():
    return render_page("hq")


@bp.get("/clerk/orders/<int:order_id>/reweigh")
def clerk_reweigh(order_id: int):
    """The clerk's re-weigh screen (称重补退) for one order; it shares the clerk centre's login."""
    return render_template("clerk/reweigh.html", page="clerk", order_id=order_id)


@lru_cache(maxsize=256)
def _fingerprint(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """A static file's URL with a content fingerprint, so phones re-fetch it exactly when it changed."""
    path = Path(current_app.static_folder) / filename
    try:
        version = _fingerprint(str(path), path.stat().st_mtime_ns)
    except OSError:
        version = "missing"
    return url_for("static", filename=filename, v=version)


@bp.app_context_processor
def _page_helpers():
    return {"asset_url": asset_url}
