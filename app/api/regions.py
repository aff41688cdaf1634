"""The address picker's data, one level at a time (a phone never downloads the whole national tree)."""
from flask import jsonify, request

from ..errors import ValidationFailed
from ..regions import LEVEL_LABELS, children
from . import bp

# Divisions change once a year at most; phones may keep a level for a day.
CACHE_SECONDS = 86400


@bp.get("/regions")
def regions():
    parent_code = request.args.get("parent") or None
    if parent_code is not None and (not parent_code.isdigit() or len(parent_code) > 12):
        raise ValidationFailed("parent 必须是地区编码(数字)", code="invalid_query")
    parent, found = children(parent_code)
    level = found[0].level if found else None
    response = jsonify(
        parent=parent.to_dict() if parent else None, level=level, level_label=LEVEL_LABELS.get(level),
        regions=[{"code": r.code, "name": r.name} for r in found],
    )
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
