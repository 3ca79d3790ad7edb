"""Reads of the commercial track, viewer first, through the policy: projects, milestones and
shipments (``projects``), evidence (``evidence``), statistics (``stats``)."""
