"""Orders: a partner's job from intake to the invoice.

Owns the order (``core``: status engine, desk, review), intake by API, e-mail,
forms and Make, partners with their portal and signed callbacks (``deliveries``),
planning, the technician's phone (``mobile``), calendars and invoices. Stands on
the conversations context to talk to customers; offers each sub-package's
``__init__``.
"""
