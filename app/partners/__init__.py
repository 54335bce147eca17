"""Partners: organizations that send us orders and hear back about them."""
