"""The only writers of the cell's tables: one ``do_*`` function per user-visible change."""
