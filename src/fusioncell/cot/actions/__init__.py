"""The CoT gateway's actions: the only writers of its tables."""
