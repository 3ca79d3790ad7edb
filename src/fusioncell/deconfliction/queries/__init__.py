"""Reads of the deconfliction track, viewer first, one module per part of the track."""
