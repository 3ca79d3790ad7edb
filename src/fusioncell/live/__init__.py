"""The one live-event bus: every track's events in one table, one id sequence, one stream."""
