"""Fresh goods re-weighing (生鲜 多退少补): goods sold online per piece are weighed at pickup or before a
store delivery ships, and the difference against what the line cost is settled in money or in goods.

rules: the arithmetic (pure); models: the weighing records; service: weighing and settling an order's
lines (one transaction each); gate: the hand-over check; topup: the member's top-up payment.
"""
