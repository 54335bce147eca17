"""The unified inbox: every conversation, newest first."""
