"""Internal tasks (seed 003 internal_task): the board, reminders and API."""
