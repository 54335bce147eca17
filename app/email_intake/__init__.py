"""Partner orders that arrive by e-mail (Alva): parsed into drafts, created or reviewed."""
