"""Fillout forms: intake submissions become customers, addresses and preliminary orders."""
