"""A TAXII 2.1 server (OASIS TAXII 2.1, sections 4 and 5) over the intelligence track.

Each organisation's collection holds exactly what is released to it, read through
``intel.queries.released``; a party writes into its own submission collection, and every
envelope becomes a report through ``intel.actions.reports.do_submit_report``, signed like any
other. Collections brought over from medallion (``fusioncell taxii import``) are served at
their own API roots to the members named at import.
"""
