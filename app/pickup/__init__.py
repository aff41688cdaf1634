"""Pickup codes (提货码): issued when a pickup order is paid, verified once at the counter.

models: the code of each order and the audit of every verification attempt.
codes: issuing a numeric code and signing / reading the QR token.
verification: preview and hand-over at the counter (throttled, audited, atomic).
"""
