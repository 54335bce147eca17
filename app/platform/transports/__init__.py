"""Outbound providers behind one interface: the protocol, the sandbox, the registry.

Also what every provider shares: its health record and its send budget.
"""
