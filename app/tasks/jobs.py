def send_due_reminders() -> int:
    return 0
