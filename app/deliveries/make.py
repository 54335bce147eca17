"""Placeholder: being written this session (see issue 5)."""


def on_status_change(order, transition) -> None:
    return None
