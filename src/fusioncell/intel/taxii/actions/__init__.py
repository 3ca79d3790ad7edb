"""The TAXII server's actions: objects added and deleted, cursors (``objects``), and
collections imported from medallion (``medallion``)."""
