"""Transactional e-mail through SendGrid v3 and its signed event webhook."""
