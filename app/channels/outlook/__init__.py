"""Outlook through Microsoft Graph: subscriptions, notifications, delta sync, replies."""
