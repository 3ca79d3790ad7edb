"""Cursor-on-Target: the gateway TAK clients (ATAK, WinTAK, iTAK) connect to.

A member's TAK client connects over TLS with a certificate the cell's own CA issued
(``fusioncell cot enroll``). What it sends is read as a stream of CoT 2.0 ``<event>``
documents: its own party's positions become de-escalation observations, GeoChat becomes a
ROUTINE hotline message on the party's channel, anything else is kept as received. What it
receives is the picture its member may see, read through the tracks' queries with the
member's viewer, exactly as the web shows it.
"""
