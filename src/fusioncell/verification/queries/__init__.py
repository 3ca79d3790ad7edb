"""Reads of the verification track, viewer first, through the policy: cases (``cases``),
links and evidence (``links``, ``evidence``), statistics (``stats``)."""
