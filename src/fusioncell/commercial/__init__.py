"""The commercial track (issue 14, item 4; DESIGN's commitment C5): projects (a power project
adding some 800 MW, a placeholder figure) with sponsors, financing organisations, locations,
a status and milestones decided on evidence stored by SHA-256; and the crossing shipments of
a project, declared ahead (R8's way: a late declaration is accepted and marked late),
inspected by the verifier, then passed or refused with a reason, counted per party by one
method (R13)."""
