"""In-app notifications (seed 000) and their live delivery."""
