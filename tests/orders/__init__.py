"""Tests of the orders context (app/orders)."""
