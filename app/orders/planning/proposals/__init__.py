"""Proposed plans: the route solver plans some days, the planner accepts what they like.

``gathering`` turns the database into the solver's plain input (orders still to
plan, technicians' working days, the visits that stay where they are);
``making`` is the job that solves and keeps the proposal; ``accepting`` saves the
visits a planner takes through the same save as a hand-made plan; ``view`` is what
the board draws (ghost cards, the figures, what stayed unplanned and why).
"""
