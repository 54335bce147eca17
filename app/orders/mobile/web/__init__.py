"""The mobile feature's handlers: the phone's blueprint (the visit card, the order's
conversation) and the offline app's."""
