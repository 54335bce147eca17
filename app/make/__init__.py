"""Make.com: inbound scenarios (CONTRACT §3) posting orders, visits, payments and feedback."""
