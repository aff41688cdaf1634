"""Page shells: served as HTML with their fingerprinted assets; the API and /healthz stay JSON."""
from __future__ import annotations

import re


def test_mall_shell_links_its_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert 'data-page="mall"' in html and 'name="viewport"' in html
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert any("weui.min.css" in a for a in assets) and any("api.js" in a for a in assets)
    for url in assets:
        assert re.search(r"\?v=[0-9a-f]{10}$", url), url
        assert client.get(url).status_code == 200, url
    assert client.get("/healthz").json == {"status": "ok"}


def test_an_unknown_page_answers_in_chinese_with_a_way_back(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "页面不存在" in html and 'href="/"' in html
    assert "Not Found" not in html and "requested URL" not in html
