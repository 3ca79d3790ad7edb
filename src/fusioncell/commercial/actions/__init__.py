"""The commercial track's actions: the only writers of its tables."""
