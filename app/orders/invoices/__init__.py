"""Our own invoice state per order: what is paid, what is refunded, and when.

:mod:`app.orders.invoices.ledger` owns it (every payment and refund goes through it);
:mod:`app.orders.invoices.views` is what the order page and the conversation's order
panel show of it.
"""
