"""REST routes of the deconfliction track, one module per part of the track."""
