"""The de-escalation track's actions: the only writers of its tables."""
