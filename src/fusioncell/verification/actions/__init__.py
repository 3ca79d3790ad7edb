"""The verification track's actions: the only writers of its tables."""
