"""Store deliveries (门店配送): the delivery note (配送单) that travels with the goods, the courier's
outcome (signed / 拒签), and the clerk's check-back at the store (回店校验): COD cash counted, rejected
goods back on the shelf and a paid order refunded then."""
