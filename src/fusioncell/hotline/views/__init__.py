"""Pages of the hotline: a member's inbox (read, compose, acknowledge, filter) and the
supervisor's deadlines, one module per page or workflow.

The server renders everything, through the hotline's queries and actions, and a list's state
is read once for all its rows (``Rows.rows``), so a page costs the same number of statements
whatever its length. ``hotline.js`` only keeps the pages live: it listens to
``/api/v1/stream``, fetches the row of each new message, updates the rows it shows from the
frames (acknowledgements, escalations), ticks the countdowns from the server's clock, and
sounds FLASH. Without script the pages still work: forms post and redirect, filters are GET
parameters.

- ``inbox``: the inbox, one message's row, the acknowledgement;
- ``compose``: sending from the compose form (``form``: the form's state and widgets);
- ``deadlines``: the supervisor's deadlines;
- ``render``: a message as a row, shared by the inbox and the deadlines.
"""

from __future__ import annotations

from fastapi import APIRouter

from fusioncell.hotline.views import compose, deadlines, inbox

# One router, the pages' routes themselves (not included routers), as the registry and
# ``url_path_for`` see any track's.
router = APIRouter(include_in_schema=False)
router.routes.extend(route for page in (inbox, compose, deadlines) for route in page.router.routes)
