"""Products: sold per piece at a fixed price, or weighed goods sold online per piece of a standard weight."""
from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

PER_PIECE = "piece"
BY_WEIGHT = "weight"


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("sold_by IN ('piece', 'weight')", name="ck_products_sold_by"),
        CheckConstraint(
            "(sold_by = 'piece' AND unit_price > 0) OR "
            "(sold_by = 'weight' AND price_per_kg > 0 AND standard_weight_g > 0)",
            name="ck_products_price",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32), index=True)
    sold_by: Mapped[str] = mapped_column(String(8), default=PER_PIECE)
    unit: Mapped[str] = mapped_column(String(8), default="件")
    # Cents per piece, for goods sold per piece.
    unit_price: Mapped[int | None] = mapped_column(Integer)
    # Weighed goods: cents per kg and the grams one piece weighs nominally (e.g. 烧鸡 750 g).
    price_per_kg: Mapped[int | None] = mapped_column(Integer)
    standard_weight_g: Mapped[int | None] = mapped_column(Integer)
    # The conversion to the offline item (商品转换关系): its code on the store's scale / POS when it
    # differs from the online SKU, and how far a weighing may stray with nothing to settle (grams, or
    # basis points of the expected weight; neither: the chain's WEIGH_TOLERANCE).
    offline_sku: Mapped[str | None] = mapped_column(String(32))
    weigh_tolerance_g: Mapped[int | None] = mapped_column(Integer)
    weigh_tolerance_bp: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
