"""The only writers of the hotline's tables."""
