"""Day-end (日结): a store closes a business day (China time, 00:00–24:00 UTC+8) into its sales daily
report (销售日报), exported to the ERP.

Recognition rules (what counts on which day; README "Day-end"):
- a **sale** counts on the day the order was completed (handed over at pickup, delivered, or confirmed
  received: the history entry that moved it to `completed`), with its total (goods + delivery fee), by
  channel (mall / pos / platform / phone) and payment method (online / at_store / cod);
- a **payment** counts on the day it was received (`paid_at`): online, at the counter in cash or by card
  (到店付款, 补款 in cash), cash on delivery on the day it was counted back at the store (回店校验);
  re-weighing top-ups (补款) are payments of purpose `topup`;
- a **refund** counts on the day it was made (written), by route: to the original route, or owed at the
  counter; a refund handed over at the counter also counts, as a **payout**, on the day it was paid out;
- net takings = payments received − refunds made.

A closed day is immutable: closing writes its movements into a snapshot (day_end_items, and the sold
orders' lines for the ERP in day_end_lines) and its report is read from there ever after. A movement
is counted once (unique per kind and source row): one dated in a closed day but not in its snapshot
(it was written after the day closed, e.g. a late payment notification stamped with the provider's
time) is counted in the next open day, and so is anything that happens later to that day's orders
(a refund tomorrow is tomorrow's). An open day's report is computed live.
"""
