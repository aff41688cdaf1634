"""Shift handover (交接班): a store's cash drawer is handed from shift to shift.

A shift runs from the previous handover (the store's first from the beginning) to its own. Expected
cash in the drawer for the shift = cash taken at the counter (到店付款 in cash) + cash on delivery counted
back at the store (回店校验) − refunds handed over the counter in cash, all since the shift opened (the
store's book, app/ledger). The clerk counts the drawer; the difference (counted − expected: > 0 长款,
< 0 短款) is recorded with an optional note, and the next shift starts at that moment. No opening float
is kept: the drawer's float stays outside these figures.
"""
