"""Seed 000's /api/v1/external/* endpoints: send WhatsApp and e-mail on request."""
