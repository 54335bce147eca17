"""Manager analytics (``/analytics``) and the agents' daily digest e-mail."""
