"""Our own invoice state per order: what is paid, what is refunded, and when.

:mod:`app.invoices.ledger` owns it (every payment and refund goes through it);
:mod:`app.invoices.views` is what the order page and the conversation's order
panel show of it.
"""
