"""The role x route matrix: every registered route, asked by nobody and by each role.

``MATRIX`` says who may use each route. Adding a route without an entry fails
``test_every_route_is_in_the_matrix``; an entry whose route is gone fails it too. Each role
is played by a demo member; the API is called with a bearer token and the pages with a
logged-in session cookie, each request with fresh credentials so that logging out or
revoking a token in one request cannot change the next.

TAXII 2.1's routes have their own table, ``TAXII_MATRIX``: they answer TAXII error messages,
not problem+json, and authenticate with HTTP Basic or a bearer token (bearer tokens here).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session
from starlette.routing import Mount
from tests.cell.factories import console, create_member, issue_token, start_session
from tests.conftest import DEMO_PASSWORD
from tests.hotline.factories import send
from tests.intel.factories import indicator, located_report, submit
from tests.intel.taxii.helpers import TAXII
from tests.intel.taxii.helpers import released as taxii_released
from tests.intel.taxii.helpers import submitted as taxii_submitted

from fusioncell.cell.models import Role
from fusioncell.cell.queries import get_member_by_username, list_keys, viewer_of
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.deescalation.actions.baselines import do_declare_baseline
from fusioncell.deescalation.actions.exceptions import do_propose_exception
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID, bilateral_channel_id
from fusioncell.intel import queries
from fusioncell.intel.taxii.actions.objects import do_add_objects
from fusioncell.intel.taxii.queries import CELL_ROOT, get_collection
from fusioncell.scenario.demo import stable_id

PUBLIC = "public"
ANY_MEMBER = "any member"
Access = str | frozenset[Role]

PARTY_ROLES = frozenset({Role.LIAISON, Role.ANALYST, Role.DUTY_OFFICER})
LIST_ALL = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
# Who reads the cell-wide channel: its members' roles that carry hotline:message:read.
READERS = frozenset(Role) - {Role.AUDITOR, Role.ADMIN}
# Intelligence: who reads it (what is released to their organisation), who submits (a
# party's analysts and liaisons), and who reads ALPHA's report released to ALPHA only.
INTEL_READERS = frozenset(
    {Role.LIAISON, Role.ANALYST, Role.SUPERVISOR, Role.VERIFIER, Role.OBSERVER}
)
SUBMITTERS = frozenset({Role.LIAISON, Role.ANALYST})
INTEL_ALPHA = SUBMITTERS | {Role.SUPERVISOR}
# Who signs a de-escalation exception: a party's liaison officer and the supervisor.
SIGNATORIES = frozenset({Role.LIAISON, Role.SUPERVISOR})
# Deconfliction: who proposes a protected place (each organisation's lead: here ALPHA's
# liaison, the supervisor, the verifier and the host's observer), who reports an incident
# (the verifier, a party's liaison; HUM-1 has no role of its own here), who receives the
# alert attributed to ALPHA (ALPHA and the supervisor) and who acknowledges it.
PROPOSERS = frozenset({Role.LIAISON, Role.SUPERVISOR, Role.VERIFIER, Role.OBSERVER})
REPORTERS = frozenset({Role.LIAISON, Role.VERIFIER})
ALERTED = PARTY_ROLES | {Role.SUPERVISOR}
ALERT_ACKNOWLEDGERS = frozenset({Role.LIAISON, Role.DUTY_OFFICER, Role.SUPERVISOR})
# Who reads a party's notification: the parties, the supervisor and the verifier.
NOTIFIED = PARTY_ROLES | {Role.SUPERVISOR, Role.VERIFIER}
# Verification: who tasks the verifier, drafts and issues findings, asks for and verifies
# remedies.
FINDERS = frozenset({Role.SUPERVISOR, Role.VERIFIER})

# Who may use each route. The target member of ``{member_id}`` belongs to ALPHA, so ALPHA's
# members see them as well as those who see every member.
MATRIX: dict[tuple[str, str], Access] = {
    # API
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("HEAD", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("DELETE", "/api/v1/auth/token"): ANY_MEMBER,
    ("GET", "/api/v1/me"): ANY_MEMBER,
    ("PUT", "/api/v1/me/language"): ANY_MEMBER,
    ("POST", "/api/v1/me/password"): ANY_MEMBER,
    ("POST", "/api/v1/me/totp"): ANY_MEMBER,
    ("POST", "/api/v1/me/totp/confirm"): ANY_MEMBER,
    ("POST", "/api/v1/me/totp/disable"): ANY_MEMBER,
    ("GET", "/api/v1/organisations"): ANY_MEMBER,
    ("GET", "/api/v1/members"): ANY_MEMBER,
    ("GET", "/api/v1/members/{member_id}"): PARTY_ROLES | LIST_ALL,
    ("POST", "/api/v1/members"): ADMIN,
    ("POST", "/api/v1/members/{member_id}/disable"): ADMIN,
    ("POST", "/api/v1/members/{member_id}/roles"): ADMIN,
    ("DELETE", "/api/v1/members/{member_id}/roles/{role}"): ADMIN,
    # The target is an ALPHA member: only ALPHA's liaison countersigns for ALPHA.
    ("POST", "/api/v1/members/{member_id}/countersign"): frozenset({Role.LIAISON}),
    ("GET", "/api/v1/keys"): ANY_MEMBER,
    ("POST", "/api/v1/keys"): ANY_MEMBER,
    ("POST", "/api/v1/keys/{key_id}/rotate"): ANY_MEMBER,
    # The target's own key: only its owner (not an actor here) and the operator.
    ("POST", "/api/v1/keys/{key_id}/revoke"): ADMIN,
    # the hotline: the target message was sent by BRAVO into the cell-wide channel, which
    # holds the parties, the supervisor, the verifier and the host (not the auditor's role).
    ("GET", "/api/v1/channels"): ANY_MEMBER,
    ("GET", "/api/v1/channels/{channel_id}/messages"): READERS,
    ("POST", "/api/v1/channels/{channel_id}/messages"): frozenset(
        {Role.LIAISON, Role.DUTY_OFFICER, Role.SUPERVISOR, Role.VERIFIER}
    ),
    ("GET", "/api/v1/messages/{message_id}"): READERS,
    ("POST", "/api/v1/messages/{message_id}/ack"): frozenset({Role.LIAISON, Role.DUTY_OFFICER}),
    ("POST", "/api/v1/messages/{message_id}/relay"): frozenset({Role.SUPERVISOR}),
    ("GET", "/api/v1/geo/zones"): ANY_MEMBER,
    ("GET", "/api/v1/geo/sites"): ANY_MEMBER,
    # Geometry versions: read by everyone; proposed by a party's liaison, the supervisor or
    # the operator; signed by a party's liaison and the supervisor (the demo's version 1,
    # with a hash that is not its own: refused as input, after the policy).
    ("GET", "/api/v1/geo/versions"): ANY_MEMBER,
    ("GET", "/api/v1/geo/versions/{version_id}"): ANY_MEMBER,
    ("POST", "/api/v1/geo/versions"): frozenset({Role.LIAISON, Role.SUPERVISOR, Role.ADMIN}),
    ("POST", "/api/v1/geo/versions/{version_id}/signatures"): SIGNATORIES,
    ("POST", "/map/versions/{version_id}/sign"): SIGNATORIES,
    # the record: leaves, proofs and checkpoints are public; bodies follow their audience
    ("GET", "/log/checkpoint"): PUBLIC,
    ("GET", "/log/tile/{path:path}"): PUBLIC,
    ("GET", "/api/v1/log/key"): PUBLIC,
    ("GET", "/api/v1/log/policy"): PUBLIC,
    ("GET", "/api/v1/log/proof/inclusion"): PUBLIC,
    ("GET", "/api/v1/log/proof/consistency"): PUBLIC,
    ("GET", "/api/v1/log/entries"): ANY_MEMBER,
    ("GET", "/api/v1/log/entries/{index}"): PUBLIC,
    ("GET", "/api/v1/log/entries/{index}/receipt"): PUBLIC,
    # pages and probes
    ("GET", "/"): ANY_MEMBER,
    ("GET", "/console"): ANY_MEMBER,
    ("POST", "/language"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ANY_MEMBER,
    ("GET", "/account"): ANY_MEMBER,
    ("POST", "/account/password"): ANY_MEMBER,
    ("POST", "/account/totp"): ANY_MEMBER,
    ("GET", "/organisations"): ANY_MEMBER,
    ("POST", "/organisations/members/{member_id}/countersign"): frozenset({Role.LIAISON}),
    ("GET", "/map"): ANY_MEMBER,
    ("GET", "/record"): ANY_MEMBER,
    ("GET", "/api/v1/stream"): ANY_MEMBER,
    ("GET", "/hotline"): ANY_MEMBER,
    ("GET", "/hotline/deadlines"): frozenset({Role.SUPERVISOR}),
    ("POST", "/hotline/messages"): frozenset(
        {Role.LIAISON, Role.DUTY_OFFICER, Role.SUPERVISOR, Role.VERIFIER}
    ),
    ("GET", "/hotline/messages/{message_id}/row"): READERS,
    ("POST", "/hotline/messages/{message_id}/ack"): frozenset({Role.LIAISON, Role.DUTY_OFFICER}),
    # What was done about ALPHA's deadline on BRAVO's message: whoever watches the deadlines
    # records it; the message's readers read the actions they may.
    ("GET", "/api/v1/messages/{message_id}/deadline-actions"): READERS,
    ("POST", "/api/v1/messages/{message_id}/deadline-actions"): frozenset({Role.SUPERVISOR}),
    ("POST", "/hotline/messages/{message_id}/deadline-actions"): frozenset({Role.SUPERVISOR}),
    # intelligence: the target report is ALPHA's, released to ALPHA (and so the supervisor)
    # only. Lists, the map layer and the export are the viewer's releasability: empty, not
    # refused, for a role that reads no intelligence.
    ("GET", "/api/v1/intel/reports"): ANY_MEMBER,
    ("GET", "/api/v1/intel/reports/count"): ANY_MEMBER,
    ("GET", "/api/v1/intel/map"): ANY_MEMBER,
    ("GET", "/api/v1/intel/export"): ANY_MEMBER,
    ("GET", "/api/v1/intel/reports/{report_id}"): INTEL_ALPHA,
    ("POST", "/api/v1/intel/reports"): SUBMITTERS,
    ("POST", "/api/v1/intel/reports/batch"): SUBMITTERS,
    ("POST", "/api/v1/intel/observations"): SUBMITTERS,
    # ALPHA releases its own report; the supervisor any it reads.
    ("POST", "/api/v1/intel/reports/{report_id}/preview"): INTEL_ALPHA,
    ("POST", "/api/v1/intel/reports/{report_id}/releases"): INTEL_ALPHA,
    ("POST", "/api/v1/intel/reports/{report_id}/responses"): INTEL_ALPHA,
    ("GET", "/intel"): INTEL_READERS,
    ("GET", "/intel/new"): SUBMITTERS,
    ("POST", "/intel/observations"): SUBMITTERS,
    ("POST", "/intel/bundles"): SUBMITTERS,
    ("GET", "/intel/reports/{report_id}"): INTEL_ALPHA,
    ("GET", "/intel/reports/{report_id}/release"): INTEL_ALPHA,
    ("POST", "/intel/reports/{report_id}/releases"): INTEL_ALPHA,
    ("POST", "/intel/reports/{report_id}/responses"): INTEL_ALPHA,
    # de-escalation: ALPHA's liaison declares (holdings, a baseline) and signs for ALPHA; the
    # supervisor accepts baselines and signs; compliance is for the readers of the cell's
    # traffic, and the lists are empty for those the shared objects are not released to.
    ("POST", "/api/v1/deescalation/observations"): frozenset({Role.LIAISON}),
    # The map layer and the exports: what compliance shows the reader, refused to the rest.
    ("GET", "/api/v1/deescalation/map"): READERS,
    ("GET", "/api/v1/deescalation/export"): READERS,
    ("GET", "/deescalation"): READERS,
    ("GET", "/api/v1/deescalation/compliance"): READERS,
    ("GET", "/api/v1/deescalation/baselines"): ANY_MEMBER,
    ("POST", "/api/v1/deescalation/baselines"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/deescalation/baselines/{baseline_id}/accept"): frozenset({Role.SUPERVISOR}),
    ("GET", "/api/v1/deescalation/exceptions"): ANY_MEMBER,
    ("POST", "/api/v1/deescalation/exceptions"): SIGNATORIES,
    ("POST", "/api/v1/deescalation/exceptions/{exception_id}/signatures"): SIGNATORIES,
    # inspections (R7, R12): a party's liaison requests, the verifier reports; the schedule,
    # requests, reports and incidents are read by the track's readers (empty for observers).
    ("GET", "/api/v1/deescalation/inspections"): READERS,
    ("POST", "/api/v1/deescalation/inspections/requests"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/deescalation/inspections"): frozenset({Role.VERIFIER}),
    ("GET", "/api/v1/deescalation/incidents"): READERS,
    ("GET", "/deescalation/inspections"): READERS,
    ("POST", "/deescalation/inspections/requests"): frozenset({Role.LIAISON}),
    ("POST", "/deescalation/inspections/reports"): frozenset({Role.VERIFIER}),
    # deconfliction's registry, no-strike lists, incidents and alerts: read by the readers of
    # the cell's traffic; places proposed by each organisation's lead and signed by a party's
    # liaison and the supervisor; ALPHA's list acknowledged by its liaison; incidents reported
    # by the verifier and a party's liaison; the alert (near a community, attributed to
    # ALPHA) read by ALPHA and the supervisor and acknowledged by their officers.
    ("GET", "/api/v1/protected-places"): READERS,
    ("POST", "/api/v1/protected-places"): PROPOSERS,
    ("GET", "/api/v1/protected-places/{place_id}"): READERS,
    ("POST", "/api/v1/protected-places/{place_id}/signatures"): SIGNATORIES,
    ("GET", "/api/v1/no-strike-list"): READERS,
    ("GET", "/api/v1/no-strike-lists"): READERS,
    ("POST", "/api/v1/no-strike-lists"): frozenset({Role.SUPERVISOR}),
    ("GET", "/api/v1/no-strike-lists/{list_id}"): READERS,
    ("GET", "/api/v1/no-strike-lists/{list_id}/export"): READERS,
    ("POST", "/api/v1/no-strike-lists/{list_id}/acknowledge"): frozenset({Role.LIAISON}),
    ("GET", "/api/v1/incidents"): READERS,
    ("POST", "/api/v1/incidents"): REPORTERS,
    ("GET", "/api/v1/incidents/{incident_id}"): READERS,
    ("GET", "/api/v1/early-warnings"): READERS,
    ("GET", "/api/v1/early-warnings/{alert_id}"): ALERTED,
    ("POST", "/api/v1/early-warnings/{alert_id}/acknowledge"): ALERT_ACKNOWLEDGERS,
    # Notifications: read by the track's readers (ALPHA's activity by the parties, the
    # supervisor and the verifier); sent by a party's liaison; ALPHA's own activity is
    # acknowledged by none of these (ALPHA is not its recipient), and amended, withdrawn,
    # noted or justified by ALPHA's liaison only.
    ("GET", "/api/v1/notifications"): READERS,
    ("GET", "/api/v1/notifications/statistics"): READERS,
    ("GET", "/api/v1/notifications/map"): READERS,
    ("GET", "/api/v1/notifications/{notification_id}"): NOTIFIED,
    ("POST", "/api/v1/notifications"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/notifications/{notification_id}/acknowledge"): frozenset(),
    ("POST", "/api/v1/notifications/{notification_id}/amend"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/notifications/{notification_id}/justify"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/notifications/{notification_id}/note"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/notifications/{notification_id}/withdraw"): frozenset({Role.LIAISON}),
    ("POST", "/deconfliction/notifications/{notification_id}/acknowledge"): frozenset(),
    ("GET", "/deconfliction"): READERS,
    ("GET", "/deconfliction/preview"): READERS,
    ("POST", "/deconfliction/notifications"): frozenset({Role.LIAISON}),
    # ALPHA's own activity: amended, noted or withdrawn by ALPHA's liaison only.
    ("POST", "/deconfliction/notifications/{notification_id}/amend"): frozenset({Role.LIAISON}),
    ("POST", "/deconfliction/notifications/{notification_id}/note"): frozenset({Role.LIAISON}),
    ("POST", "/deconfliction/notifications/{notification_id}/withdraw"): frozenset({Role.LIAISON}),
    ("GET", "/deconfliction/registry"): READERS,
    ("POST", "/deconfliction/registry/places"): PROPOSERS,
    ("POST", "/deconfliction/registry/places/{place_id}/sign"): SIGNATORIES,
    ("POST", "/deconfliction/registry/lists"): frozenset({Role.SUPERVISOR}),
    ("POST", "/deconfliction/registry/lists/{list_id}/acknowledge"): frozenset({Role.LIAISON}),
    ("GET", "/deconfliction/incidents"): READERS,
    ("POST", "/deconfliction/incidents"): REPORTERS,
    ("POST", "/deconfliction/alerts/{alert_id}/acknowledge"): ALERT_ACKNOWLEDGERS,
    # Verification (issue 13): ALPHA's complaint against BRAVO, triaged and investigated, with
    # an access request to ALPHA and a file attached. Cases are read by the track's readers in
    # the parties, the supervisor and the verifier (the host's and the operator's do not
    # exist for them); complaints filed by a party's liaison or the verifier; only the
    # supervisor triages and closes; the supervisor or the verifier tasks, drafts and issues
    # findings and remedies; the verifier investigates; a party's liaison comments and
    # answers the requests made to its party; evidence stored by those who file or find.
    ("GET", "/api/v1/verification/complaints"): READERS,
    ("POST", "/api/v1/verification/complaints"): frozenset({Role.LIAISON, Role.VERIFIER}),
    ("GET", "/api/v1/verification/triage-queue"): READERS,
    ("GET", "/api/v1/verification/stats"): READERS,
    ("GET", "/api/v1/verification/complaints/{case_id}"): NOTIFIED,
    ("POST", "/api/v1/verification/complaints/{case_id}/triage"): frozenset({Role.SUPERVISOR}),
    ("POST", "/api/v1/verification/complaints/{case_id}/tasking"): FINDERS,
    ("POST", "/api/v1/verification/complaints/{case_id}/site-visits"): frozenset({Role.VERIFIER}),
    ("POST", "/api/v1/verification/complaints/{case_id}/access-requests"): frozenset(
        {Role.VERIFIER}
    ),
    (
        "POST",
        "/api/v1/verification/complaints/{case_id}/access-requests/{request_id}/answer",
    ): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/verification/complaints/{case_id}/draft-finding"): FINDERS,
    ("POST", "/api/v1/verification/complaints/{case_id}/comments"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/verification/complaints/{case_id}/finding"): FINDERS,
    ("POST", "/api/v1/verification/complaints/{case_id}/remedy"): FINDERS,
    ("POST", "/api/v1/verification/complaints/{case_id}/remedy/verification"): FINDERS,
    ("POST", "/api/v1/verification/complaints/{case_id}/close"): frozenset({Role.SUPERVISOR}),
    ("POST", "/api/v1/verification/evidence"): FINDERS | {Role.LIAISON},
    ("GET", "/api/v1/verification/evidence/{sha256}"): NOTIFIED,
    # Commercial: the project is ALPHA's, financed by the host (whose observer reads it); a
    # party's liaison officer and the supervisor run projects; evidence is stored by them and
    # the verifier; the supervisor and the verifier decide milestones; a party's liaison
    # officer declares shipments, which the verifier inspects, passes and refuses.
    ("GET", "/api/v1/projects"): READERS,
    ("POST", "/api/v1/projects"): SIGNATORIES,
    ("GET", "/api/v1/projects/stats"): READERS,
    ("POST", "/api/v1/projects/evidence"): FINDERS | {Role.LIAISON},
    ("GET", "/api/v1/projects/evidence/{sha256}"): READERS,
    ("GET", "/api/v1/projects/{project_id}"): READERS,
    ("POST", "/api/v1/projects/{project_id}/status"): SIGNATORIES,
    ("POST", "/api/v1/projects/{project_id}/milestones"): SIGNATORIES,
    ("POST", "/api/v1/projects/{project_id}/milestones/{milestone_id}/evidence"): FINDERS
    | {Role.LIAISON},
    ("POST", "/api/v1/projects/{project_id}/milestones/{milestone_id}/decision"): FINDERS,
    ("POST", "/api/v1/projects/{project_id}/shipments"): frozenset({Role.LIAISON}),
    ("GET", "/api/v1/projects/{project_id}/shipments/{shipment_id}"): READERS,
    ("POST", "/api/v1/projects/{project_id}/shipments/{shipment_id}/inspection"): frozenset(
        {Role.VERIFIER}
    ),
    ("POST", "/api/v1/projects/{project_id}/shipments/{shipment_id}/passage"): frozenset(
        {Role.VERIFIER}
    ),
    ("POST", "/api/v1/projects/{project_id}/shipments/{shipment_id}/refusal"): frozenset(
        {Role.VERIFIER}
    ),
    # Diplomacy: agreements and meetings are read by the parties' staff, the supervisor and
    # the verifier; a party's liaison officer and the supervisor propose and sign; the
    # supervisor or the verifier assesses; the supervisor drafts the minutes.
    ("GET", "/api/v1/agreements"): NOTIFIED,
    ("POST", "/api/v1/agreements"): SIGNATORIES,
    ("GET", "/api/v1/agreements/{agreement_id}"): NOTIFIED,
    ("POST", "/api/v1/agreements/{agreement_id}/amendments"): SIGNATORIES,
    ("POST", "/api/v1/agreements/{agreement_id}/versions/{number}/signatures"): SIGNATORIES,
    ("GET", "/api/v1/milestones"): NOTIFIED,
    ("GET", "/api/v1/milestones/{milestone}"): NOTIFIED,
    ("POST", "/api/v1/milestones/{milestone}/verification"): FINDERS | {Role.LIAISON},
    ("POST", "/api/v1/milestones/{milestone}/comments"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/milestones/{milestone}/assessment"): FINDERS,
    ("GET", "/api/v1/meetings"): NOTIFIED,
    ("POST", "/api/v1/meetings"): SIGNATORIES,
    ("GET", "/api/v1/meetings/{meeting_id}"): NOTIFIED,
    ("POST", "/api/v1/meetings/{meeting_id}/minutes"): frozenset({Role.SUPERVISOR}),
    ("POST", "/api/v1/meetings/{meeting_id}/comments"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/meetings/{meeting_id}/signatures"): frozenset({Role.LIAISON}),
    ("POST", "/api/v1/meetings/{meeting_id}/decisions/{decision}/commitment"): SIGNATORIES,
    # The diplomatic pages: the same policy as the API's routes.
    ("GET", "/agreements"): NOTIFIED,
    ("GET", "/agreements/dashboard"): NOTIFIED,
    ("GET", "/agreements/dashboard.csv"): NOTIFIED,
    ("GET", "/agreements/dashboard.html"): NOTIFIED,
    ("GET", "/agreements/{agreement_id}"): NOTIFIED,
    ("POST", "/agreements/{agreement_id}/versions/{number}/signatures"): SIGNATORIES,
    ("POST", "/agreements/{agreement_id}/milestones/{milestone}/verification"): FINDERS
    | {Role.LIAISON},
    ("POST", "/agreements/{agreement_id}/milestones/{milestone}/comments"): frozenset(
        {Role.LIAISON}
    ),
    ("POST", "/agreements/{agreement_id}/milestones/{milestone}/assessment"): FINDERS,
    ("GET", "/meetings"): NOTIFIED,
    ("GET", "/meetings/{meeting_id}"): NOTIFIED,
    ("POST", "/meetings/{meeting_id}/minutes"): frozenset({Role.SUPERVISOR}),
    ("POST", "/meetings/{meeting_id}/comments"): frozenset({Role.LIAISON}),
    ("POST", "/meetings/{meeting_id}/signatures"): frozenset({Role.LIAISON}),
    ("POST", "/meetings/{meeting_id}/decisions"): SIGNATORIES,
    # The disputes pages: the same policy as the API's routes.
    ("GET", "/verification"): READERS,
    ("GET", "/verification/stats"): READERS,
    ("POST", "/verification/complaints"): frozenset({Role.LIAISON, Role.VERIFIER}),
    ("GET", "/verification/cases/{case_id}"): NOTIFIED,
    ("POST", "/verification/cases/{case_id}/triage"): frozenset({Role.SUPERVISOR}),
    ("POST", "/verification/cases/{case_id}/tasking"): FINDERS,
    ("POST", "/verification/cases/{case_id}/site-visits"): frozenset({Role.VERIFIER}),
    ("POST", "/verification/cases/{case_id}/access-requests"): frozenset({Role.VERIFIER}),
    ("POST", "/verification/cases/{case_id}/access-requests/{request_id}/answer"): frozenset(
        {Role.LIAISON}
    ),
    ("POST", "/verification/cases/{case_id}/draft-finding"): FINDERS,
    ("POST", "/verification/cases/{case_id}/comments"): frozenset({Role.LIAISON}),
    ("POST", "/verification/cases/{case_id}/finding"): FINDERS,
    ("POST", "/verification/cases/{case_id}/remedy"): FINDERS,
    ("POST", "/verification/cases/{case_id}/remedy-verification"): FINDERS,
    ("POST", "/verification/cases/{case_id}/close"): frozenset({Role.SUPERVISOR}),
    # The commercial pages: the same policy as the API's routes.
    ("GET", "/projects"): READERS,
    ("POST", "/projects"): SIGNATORIES,
    ("GET", "/projects/stats"): READERS,
    ("GET", "/projects/{project_id}"): READERS,
    ("POST", "/projects/{project_id}/status"): SIGNATORIES,
    ("POST", "/projects/{project_id}/milestones"): SIGNATORIES,
    ("POST", "/projects/{project_id}/milestones/{milestone_id}/decision"): FINDERS,
    ("POST", "/projects/{project_id}/milestones/{milestone_id}/evidence"): FINDERS | {Role.LIAISON},
    ("POST", "/projects/{project_id}/shipments"): frozenset({Role.LIAISON}),
    ("POST", "/projects/{project_id}/shipments/{shipment_id}/inspection"): frozenset(
        {Role.VERIFIER}
    ),
    ("POST", "/projects/{project_id}/shipments/{shipment_id}/passage"): frozenset({Role.VERIFIER}),
    ("POST", "/projects/{project_id}/shipments/{shipment_id}/refusal"): frozenset({Role.VERIFIER}),
}

# Endpoints that never end for an authenticated client (Server-Sent Events): only the
# refusal of an unauthenticated request is checked here; tests/hotline/test_stream.py
# covers who receives what.
STREAMS = frozenset({("GET", "/api/v1/stream")})

# Where the policy hides the object itself from a role: 404 rather than 403, so that
# "not released to you" and "does not exist" look the same.
OUTSIDE_ALPHA = frozenset(Role) - PARTY_ROLES - LIST_ALL
HIDDEN: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/api/v1/members/{member_id}"): OUTSIDE_ALPHA,
    ("POST", "/api/v1/members/{member_id}/disable"): OUTSIDE_ALPHA,
    ("POST", "/api/v1/members/{member_id}/countersign"): OUTSIDE_ALPHA,
    ("POST", "/organisations/members/{member_id}/countersign"): OUTSIDE_ALPHA,
    ("POST", "/api/v1/keys/{key_id}/revoke"): frozenset(Role) - ADMIN,
    # Without hotline:message:read the channel and its messages do not exist for you.
    ("GET", "/api/v1/channels/{channel_id}/messages"): frozenset(Role) - READERS,
    ("GET", "/api/v1/messages/{message_id}"): frozenset(Role) - READERS,
    ("POST", "/api/v1/messages/{message_id}/ack"): frozenset(Role) - READERS,
    ("GET", "/hotline/messages/{message_id}/row"): frozenset(Role) - READERS,
    ("POST", "/hotline/messages/{message_id}/ack"): frozenset(Role) - READERS,
    ("GET", "/api/v1/messages/{message_id}/deadline-actions"): frozenset(Role) - READERS,
    # ALPHA's report does not exist for those it is not released to (or who read none).
    **dict.fromkeys(
        [
            ("GET", "/api/v1/intel/reports/{report_id}"),
            ("POST", "/api/v1/intel/reports/{report_id}/preview"),
            ("POST", "/api/v1/intel/reports/{report_id}/releases"),
            ("POST", "/api/v1/intel/reports/{report_id}/responses"),
            ("GET", "/intel/reports/{report_id}"),
            ("GET", "/intel/reports/{report_id}/release"),
            ("POST", "/intel/reports/{report_id}/releases"),
            ("POST", "/intel/reports/{report_id}/responses"),
        ],
        frozenset(Role) - INTEL_ALPHA,
    ),
    # Deconfliction: the registry, lists and incidents do not exist for those who read no
    # traffic; the alert for those it was not sent to; ALPHA's activity for the host's
    # observer too (a notification goes to the parties, the supervisor and the verifier).
    **dict.fromkeys(
        [
            ("GET", "/api/v1/protected-places/{place_id}"),
            ("GET", "/api/v1/no-strike-lists/{list_id}"),
            ("GET", "/api/v1/no-strike-lists/{list_id}/export"),
            ("POST", "/api/v1/no-strike-lists/{list_id}/acknowledge"),
            ("POST", "/deconfliction/registry/lists/{list_id}/acknowledge"),
            ("GET", "/api/v1/incidents/{incident_id}"),
        ],
        frozenset(Role) - READERS,
    ),
    ("GET", "/api/v1/early-warnings/{alert_id}"): frozenset(Role) - ALERTED,
    **dict.fromkeys(
        [
            ("POST", "/deconfliction/notifications/{notification_id}/amend"),
            ("POST", "/deconfliction/notifications/{notification_id}/note"),
            ("POST", "/deconfliction/notifications/{notification_id}/withdraw"),
            ("GET", "/api/v1/notifications/{notification_id}"),
            ("POST", "/api/v1/notifications/{notification_id}/amend"),
            ("POST", "/api/v1/notifications/{notification_id}/justify"),
            ("POST", "/api/v1/notifications/{notification_id}/note"),
            ("POST", "/api/v1/notifications/{notification_id}/withdraw"),
        ],
        frozenset({Role.OBSERVER, Role.AUDITOR, Role.ADMIN}),
    ),
    # A case, and the file attached to it, do not exist for the host or the operator.
    **dict.fromkeys(
        [
            ("GET", "/api/v1/verification/complaints/{case_id}"),
            ("GET", "/api/v1/verification/evidence/{sha256}"),
        ],
        frozenset({Role.OBSERVER, Role.AUDITOR, Role.ADMIN}),
    ),
    # The case page: the host's observer reads the track, and the case does not exist for it.
    ("GET", "/verification/cases/{case_id}"): frozenset({Role.OBSERVER}),
    # A project, its shipments and the files before its milestones do not exist for those
    # who do not read the track (the auditor and the operator).
    **dict.fromkeys(
        [
            ("GET", "/api/v1/projects/evidence/{sha256}"),
            ("GET", "/api/v1/projects/{project_id}"),
            ("POST", "/api/v1/projects/{project_id}/status"),
            ("POST", "/api/v1/projects/{project_id}/milestones"),
            ("GET", "/api/v1/projects/{project_id}/shipments/{shipment_id}"),
        ],
        frozenset(Role) - READERS,
    ),
    # An agreement, its milestones and a meeting do not exist for those who do not read the
    # diplomatic track (the host's observer, the auditor, the operator).
    **dict.fromkeys(
        [
            ("GET", "/api/v1/agreements/{agreement_id}"),
            ("GET", "/api/v1/milestones/{milestone}"),
            ("GET", "/api/v1/meetings/{meeting_id}"),
        ],
        frozenset(Role) - NOTIFIED,
    ),
}

# TAXII 2.1 (the intelligence track's server) speaks TAXII, not problem+json, and takes HTTP
# Basic or a bearer token: its own table. Each case names a collection of the cell's API root:
# ALPHA's submissions (read and written by ALPHA's analysts and liaisons) or the supervisor's
# releases (read by the supervisor, written by no one); every other collection, and the API
# root itself for a role that reads no intelligence, is "not found".
ALPHA_SUBMITTED = "ALPHA's submissions"
SUPERVISOR_RELEASED = "the supervisor's releases"


@dataclass(frozen=True)
class TaxiiCase:
    collection: str | None
    allowed: Access
    # Refused with 404; any other role not allowed gets 403.
    hidden: frozenset[Role]


def _collection_cases(*, writes: bool) -> tuple[TaxiiCase, ...]:
    supervisor = frozenset({Role.SUPERVISOR})
    return (
        TaxiiCase(ALPHA_SUBMITTED, SUBMITTERS, frozenset(Role) - SUBMITTERS),
        # The supervisor reads its releases and may not write into them.
        TaxiiCase(
            SUPERVISOR_RELEASED, frozenset() if writes else supervisor, frozenset(Role) - supervisor
        ),
    )


_API_ROOT = "/{api_root:path}"
TAXII_MATRIX: dict[tuple[str, str], tuple[TaxiiCase, ...]] = {
    ("GET", "/taxii2/"): (TaxiiCase(None, ANY_MEMBER, frozenset()),),
    ("GET", f"{_API_ROOT}/"): (TaxiiCase(None, INTEL_READERS, frozenset(Role) - INTEL_READERS),),
    # Each member lists their organisation's collections: none for a role that reads none.
    ("GET", f"{_API_ROOT}/collections/"): (TaxiiCase(None, ANY_MEMBER, frozenset()),),
    ("GET", f"{_API_ROOT}/collections/{{collection_id}}/"): _collection_cases(writes=False),
    ("GET", f"{_API_ROOT}/collections/{{collection_id}}/manifest/"): _collection_cases(
        writes=False
    ),
    ("GET", f"{_API_ROOT}/collections/{{collection_id}}/objects/"): _collection_cases(writes=False),
    ("POST", f"{_API_ROOT}/collections/{{collection_id}}/objects/"): _collection_cases(writes=True),
    ("GET", f"{_API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/"): (
        _collection_cases(writes=False)
    ),
    ("DELETE", f"{_API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/"): (
        _collection_cases(writes=True)
    ),
    ("GET", f"{_API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/"): (
        _collection_cases(writes=False)
    ),
    # A status resource is its poster's alone (ALPHA's liaison here).
    ("GET", f"{_API_ROOT}/status/{{status_id}}/"): (
        TaxiiCase(None, frozenset({Role.LIAISON}), frozenset(Role) - {Role.LIAISON}),
    ),
}
TAXII_COLLECTIONS = {
    ALPHA_SUBMITTED: taxii_submitted("ALPHA"),
    SUPERVISOR_RELEASED: taxii_released("SUPERVISOR"),
}
TAXII_ENVELOPE = {"objects": [indicator("Route matrix added")]}

# Routes whose bodies are meant to go through: whoever the matrix allows gets a success
# (2xx, or a page's 303), not a refusal of the input.
SUCCEEDS = frozenset(
    key
    for key in MATRIX
    if key[1].startswith(("/api/v1/intel/", "/intel", "/api/v1/deescalation/"))
    or key[1].endswith("/deadline-actions")
)

# One demo member per role; the auditor is created by the console for these tests.
ACTORS: dict[Role, str] = {
    Role.LIAISON: "alpha.liaison",
    Role.ANALYST: "alpha.analyst",
    Role.DUTY_OFFICER: "alpha.duty",
    Role.SUPERVISOR: "supervisor.chair",
    Role.VERIFIER: "verifier.lead",
    Role.OBSERVER: "host.observer",
    Role.AUDITOR: "host.auditor",
    Role.ADMIN: "cell.admin",
}
TARGET = "alpha.target"
TARGET_ID = stable_id("member", TARGET)
KEY = base64.b64encode(
    Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()

# What each request carries. Bodies are valid enough to reach the action (so a refusal is
# the policy's, not the validator's) and harmless for the caller's own account.
JSON_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/agreements"): {
        "title": "Route matrix",
        "text": "The parties agree.",
        "parties": ["ALPHA", "BRAVO"],
        "date": "2026-01-06",
    },
    ("POST", "/api/v1/agreements/{agreement_id}/amendments"): {
        "title": "Route matrix, amended",
        "text": "The parties agree again.",
        "date": "2026-01-07",
    },
    ("POST", "/api/v1/agreements/{agreement_id}/versions/{number}/signatures"): {
        "content_hash": "0" * 64
    },
    ("POST", "/api/v1/milestones/{milestone}/verification"): {},
    ("POST", "/api/v1/milestones/{milestone}/comments"): {"comment": "Route matrix"},
    ("POST", "/api/v1/milestones/{milestone}/assessment"): {
        "outcome": "met",
        "reasons": "Route matrix",
        "evidence": [{"kind": "document", "id": "0" * 64}],
    },
    ("POST", "/api/v1/meetings"): {
        "title": "Route matrix",
        "agenda": ["Route matrix"],
        "participants": ["ALPHA", "BRAVO"],
        "starts_at": "2026-02-01T10:00:00Z",
    },
    ("POST", "/api/v1/meetings/{meeting_id}/minutes"): {"text": "Route matrix"},
    ("POST", "/api/v1/meetings/{meeting_id}/comments"): {"comment": "Route matrix"},
    ("POST", "/api/v1/meetings/{meeting_id}/signatures"): {"minutes_hash": "0" * 64},
    ("POST", "/api/v1/meetings/{meeting_id}/decisions/{decision}/commitment"): {},
    # An empty geometry: refused as input (no area of separation), after the policy.
    ("POST", "/api/v1/geo/versions"): {
        "collection": {"type": "FeatureCollection", "features": []},
        "source": "Route matrix check",
    },
    ("POST", "/api/v1/geo/versions/{version_id}/signatures"): {"content_hash": "0" * 64},
    ("POST", "/api/v1/notifications"): {
        "kind": "activity",
        "geometry": {"type": "Point", "coordinates": [35.70, 33.20]},
        "starts_at": "2026-01-09T09:00:00Z",
        "ends_at": "2026-01-09T11:00:00Z",
        "description": "Route matrix activity",
    },
    ("POST", "/api/v1/notifications/{notification_id}/acknowledge"): {},
    ("POST", "/api/v1/notifications/{notification_id}/amend"): {
        "geometry": {"type": "Point", "coordinates": [35.69, 33.19]},
        "starts_at": "2026-01-09T09:00:00Z",
        "ends_at": "2026-01-09T12:00:00Z",
        "description": "Route matrix amendment",
    },
    ("POST", "/api/v1/notifications/{notification_id}/justify"): {"justification": "Route matrix"},
    ("POST", "/api/v1/notifications/{notification_id}/note"): {"note": "Route matrix"},
    ("POST", "/api/v1/notifications/{notification_id}/withdraw"): {"reason": "Route matrix"},
    ("POST", "/api/v1/protected-places"): {
        "kind": "hospital",
        "name": "Route matrix clinic",
        "geometry": {"type": "Point", "coordinates": [36.5, 32.7]},
    },
    ("POST", "/api/v1/verification/complaints"): {
        "allegation": "Route matrix check",
        "against": "BRAVO",
        "rule": "R1",
        "location": {"type": "Point", "coordinates": [35.84, 33.15]},
        "occurred_at": "2026-01-06T07:00:00Z",
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/triage"): {
        "triage": "admissible",
        "reasons": "Route matrix check",
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/tasking"): {},
    ("POST", "/api/v1/verification/complaints/{case_id}/site-visits"): {
        "visited_at": "2026-01-06T07:00:00Z"
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/access-requests"): {
        "place": "Route matrix check"
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/access-requests/{request_id}/answer"): {
        "answer": "granted"
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/draft-finding"): {
        "outcome": "not_substantiated",
        "summary": "Route matrix check",
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/comments"): {
        "comment": "Route matrix check"
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/finding"): {
        "outcome": "not_substantiated",
        "summary": "Route matrix check",
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/remedy"): {
        "remedy": "Route matrix check",
        "due_at": "2026-02-01T00:00:00Z",
    },
    ("POST", "/api/v1/verification/complaints/{case_id}/remedy/verification"): {},
    ("POST", "/api/v1/verification/complaints/{case_id}/close"): {},
    # JSON, not one of the evidence types: refused as input, after the policy.
    ("POST", "/api/v1/verification/evidence"): {},
    # Valid enough to reach the actions; refused as input (or by the workflow) after the policy.
    ("POST", "/api/v1/projects"): {
        "name": "Route matrix project",
        "description": "Route matrix check",
        "sponsors": ["Route matrix sponsor"],
        "starts_on": "2026-01-06",
        "ends_on": "2026-12-31",
    },
    ("POST", "/api/v1/projects/evidence"): {},
    ("POST", "/api/v1/projects/{project_id}/status"): {
        "status": "suspended",
        "reason": "Route matrix",
    },
    ("POST", "/api/v1/projects/{project_id}/milestones"): {
        "title": "Route matrix",
        "due_on": "2026-02-01",
    },
    ("POST", "/api/v1/projects/{project_id}/milestones/{milestone_id}/evidence"): {
        "evidence": ["0" * 64]
    },
    ("POST", "/api/v1/projects/{project_id}/milestones/{milestone_id}/decision"): {
        "decision": "missed",
        "reason": "Route matrix",
    },
    ("POST", "/api/v1/projects/{project_id}/shipments"): {
        "cargo": "Route matrix cargo",
        "crossing": "not-a-crossing",
        "planned_at": "2026-01-09T09:00:00Z",
    },
    ("POST", "/api/v1/projects/{project_id}/shipments/{shipment_id}/inspection"): {
        "note": "Route matrix"
    },
    ("POST", "/api/v1/projects/{project_id}/shipments/{shipment_id}/passage"): {},
    ("POST", "/api/v1/projects/{project_id}/shipments/{shipment_id}/refusal"): {
        "reason": "Route matrix"
    },
    ("POST", "/api/v1/incidents"): {
        "kind": "threat",
        "affects": "site",
        "target": "quneitra-crossing",
        "occurred_at": "2026-01-06T07:00:00Z",
        "description": "Route matrix check",
    },
    ("PUT", "/api/v1/me/language"): {"language": "en"},
    ("POST", "/api/v1/me/password"): {"current_password": DEMO_PASSWORD, "new_password": "short"},
    ("POST", "/api/v1/me/totp/confirm"): {"code": "abcdef"},
    ("POST", "/api/v1/me/totp/disable"): {"code": "abcdef"},
    # A valid key, sent without the entry signed by it: refused as input, after the policy.
    ("POST", "/api/v1/keys"): {"public_key": KEY},
    ("POST", "/api/v1/keys/{key_id}/rotate"): {"public_key": KEY, "possession": "x"},
    ("POST", "/api/v1/channels/{channel_id}/messages"): {
        "precedence": "ROUTINE",
        "text": "Route matrix check",
    },
    ("POST", "/api/v1/messages/{message_id}/ack"): {},
    ("POST", "/api/v1/messages/{message_id}/relay"): {
        "channel_id": str(bilateral_channel_id(stable_id("organisation", "ALPHA")))
    },
    ("POST", "/api/v1/members/{member_id}/roles"): {"role": "analyst"},
    ("POST", "/api/v1/members/{member_id}/countersign"): {"roles": ["liaison"]},
    ("POST", "/api/v1/members"): {
        "id": str(uuid.UUID(int=42)),
        "username": "alpha.created",
        "organisation": "ALPHA",
        "roles": ["analyst"],
        "password": "a-long-enough-password",
    },
    ("POST", "/api/v1/messages/{message_id}/deadline-actions"): {
        "organisation": "ALPHA",
        "kind": "call",
    },
    ("POST", "/api/v1/intel/reports"): {"bundle": located_report("Route matrix report")},
    ("POST", "/api/v1/intel/reports/batch"): {
        "reports": [{"bundle": located_report("Route matrix batch")}]
    },
    ("POST", "/api/v1/intel/observations"): {
        "title": "Route matrix observation",
        "description": "Two trucks at the junction",
        "latitude": 33.2,
        "longitude": 35.81,
        "observed_at": "2026-01-06T05:30:00Z",
        "grade": "C3",
    },
    ("POST", "/api/v1/intel/reports/{report_id}/preview"): {"grid_km": 5},
    ("POST", "/api/v1/intel/reports/{report_id}/releases"): {"release_to": ["BRAVO"]},
    ("POST", "/api/v1/intel/reports/{report_id}/responses"): {
        "opinion": "agree",
        "explanation": "Seen from our side too",
    },
    # ALPHA's own tanks in its 0-10 km band, declared after the freeze.
    ("POST", "/api/v1/deescalation/observations"): {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "route-matrix-tanks",
                "geometry": {"type": "Point", "coordinates": [35.75, 33.12]},
                "properties": {
                    "unit": "route-matrix-tanks",
                    "party": "ALPHA",
                    "category": "tank",
                    "count": 10,
                    "observed_at": "2026-01-06T07:00:00Z",
                    "source": "declaration",
                },
            }
        ],
    },
    ("POST", "/api/v1/deescalation/baselines"): {
        "party": "ALPHA",
        "holdings": [{"zone": "limitation-alpha-0-10", "category": "tank", "count": 40}],
    },
    ("POST", "/api/v1/deescalation/inspections/requests"): {
        "zone": "limitation-bravo-10-20",
        "reason": "Route matrix check",
    },
    ("POST", "/api/v1/deescalation/inspections"): {
        "zone": "limitation-alpha-0-10",
        "inspected_at": "2026-01-06T07:30:00Z",
        "outcome": "completed",
    },
    ("POST", "/api/v1/deescalation/exceptions"): {
        "party": "BRAVO",
        "zone": "limitation-bravo-0-10",
        "category": "tank",
        "max_count": 80,
        "valid_from": "2026-01-06T08:00:00Z",
        "valid_until": "2026-01-13T08:00:00Z",
    },
}
FORM_BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/map/versions/{version_id}/sign"): {"content_hash": "0" * 64},
    ("POST", "/deconfliction/notifications"): {
        "kind": "activity",
        "geometry": '{"type": "Point", "coordinates": [35.70, 33.20]}',
        "starts_at": "2026-01-09T08:00",
        "ends_at": "2026-01-09T10:00",
        "description": "Route matrix activity",
    },
    ("POST", "/deconfliction/notifications/{notification_id}/amend"): {
        "geometry": '{"type": "Point", "coordinates": [35.69, 33.19]}',
        "starts_at": "2026-01-09T08:00",
        "ends_at": "2026-01-09T12:00",
        "description": "Route matrix amendment",
    },
    ("POST", "/deconfliction/notifications/{notification_id}/note"): {"note": "Route matrix"},
    ("POST", "/deconfliction/registry/places"): {
        "kind": "school",
        "name": "Route matrix school",
        "geometry": '{"type": "Point", "coordinates": [36.5, 32.7]}',
    },
    ("POST", "/deconfliction/incidents"): {
        "kind": "threat",
        "affects": "site",
        "target": "quneitra-crossing",
        "occurred_at": "2026-01-06T07:00",
        "description": "Route matrix check",
    },
    ("POST", "/verification/complaints"): {
        "allegation": "Route matrix check",
        "against": "BRAVO",
        "rule": "R1",
        "lon": "35.84",
        "lat": "33.15",
        "occurred_at": "2026-01-06T07:00",
    },
    ("POST", "/deescalation/inspections/requests"): {
        "item": "limitation-bravo-10-20|BRAVO",
        "reason": "Route matrix check",
    },
    ("POST", "/deescalation/inspections/reports"): {
        "item": "limitation-alpha-0-10|ALPHA",
        "inspected_at": "2026-01-06T07:30",
        "outcome": "completed",
    },
    ("POST", "/language"): {"language": "en", "next": "/"},
    ("POST", "/account/password"): {"current_password": DEMO_PASSWORD, "new_password": "short"},
    ("POST", "/account/totp"): {"step": "begin"},
    ("POST", "/organisations/members/{member_id}/countersign"): {"roles": "liaison"},
    ("POST", "/hotline/messages/{message_id}/deadline-actions"): {
        "organisation": str(stable_id("organisation", "ALPHA")),
        "kind": "call",
    },
    ("POST", "/intel/observations"): {
        "title": "Route matrix observation",
        "description": "Two trucks at the junction",
        "location": '{"type": "Point", "coordinates": [35.81, 33.2]}',
        "observed_at": "2026-01-06T05:30",
        "grade": "C3",
        "tlp": "amber",
    },
    ("POST", "/intel/bundles"): {
        "bundle": json.dumps(located_report("Route matrix upload")),
        "grade": "B2",
        "tlp": "amber",
    },
    ("POST", "/intel/reports/{report_id}/releases"): {"release_to": "BRAVO"},
    ("POST", "/intel/reports/{report_id}/responses"): {
        "opinion": "agree",
        "explanation": "Seen from our side too",
    },
}
QUERIES: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/api/v1/log/proof/inclusion"): {"index": 0, "tree_size": 1},
    ("GET", "/api/v1/log/proof/consistency"): {"first": 1, "second": 2},
}
PATH_PARAMETERS = {
    "member_id": str(TARGET_ID),
    "track": "hotline",
    "path": "entries/000.p/1",
    "index": "0",
    "channel_id": str(CELL_CHANNEL_ID),
    # The demo's geometry, version 1.
    "version_id": str(stable_id("geometry-version", "1")),
    # A role the target does not hold: revoking it changes nothing.
    "role": "observer",
    # "message_id": BRAVO's message to the cell, sent once the cast exists.
    # "key_id": the target member's key, looked up once the cast exists.
    # "report_id": ALPHA's report released to ALPHA only; "baseline_id": ALPHA's baseline,
    # not yet accepted; "exception_id": an exception ALPHA proposed, not yet signed; the TAXII
    # objects and status ALPHA's liaison added (see ``cast``).
}
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class Actor:
    role: Role | None
    username: str | None


def registered_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, through included routers."""
    from fastapi import routing

    iterate = getattr(routing, "iter_route_contexts", None)
    routes: Iterable[Any] = iterate(app.routes) if iterate else app.routes
    found: set[tuple[str, str]] = set()
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount) and route.path == "/static":
            continue
        assert route.methods, f"a route without methods: {route!r}"
        found |= {(method, route.path) for method in route.methods}
    return found


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    registered = registered_routes(app)

    assert sorted(registered - MATRIX.keys() - TAXII_MATRIX.keys()) == [], "routes missing"
    assert sorted(MATRIX.keys() - registered) == [], "MATRIX entries without a route"
    assert sorted(TAXII_MATRIX.keys() - registered) == [], "TAXII entries without a route"
    assert MATRIX.keys().isdisjoint(TAXII_MATRIX.keys())
    assert HIDDEN.keys() <= MATRIX.keys()
    assert set(ACTORS) == set(Role), "every role needs an actor"


@pytest.fixture
def cast(db: Session, clock: ManualClock, demo: None) -> dict[str, str]:
    """The demo cell plus an auditor, an ALPHA member to look at and disable, and a message.

    Returns the path parameters: the ALPHA member's key to revoke and BRAVO's message.
    """
    for username, organisation, role in (
        ("host.auditor", "HOST", Role.AUDITOR),
        (TARGET, "ALPHA", Role.LIAISON),
    ):
        create_member(
            db,
            console(),
            clock,
            member_id=stable_id("member", username),
            username=username,
            display_name=username,
            organisation=organisation,
            roles=[role],
        )
    keys = [key.key_id for key in list_keys(db, console()) if key.member_id == TARGET_ID]
    bravo = viewer_of(get_member_by_username(db, console(), "bravo.liaison"))
    alpha = viewer_of(get_member_by_username(db, console(), "alpha.liaison"))
    db.commit()
    assert len(keys) == 1
    message = send(db, bravo, now=clock.now(), precedence="ROUTINE")
    report = submit(db, alpha, clock, located_report("ALPHA's own report"), release_to=())
    assert sorted(queries.releases_of(db, alpha, [report.id])[report.id]) == sorted(
        stable_id("organisation", slug) for slug in ("ALPHA", "SUPERVISOR")
    )
    baseline = do_declare_baseline(
        db,
        alpha,
        baseline_id=uuid.uuid4(),
        party="ALPHA",
        holdings=[{"zone": "limitation-alpha-0-10", "category": "tank", "count": 75}],
        now=clock.now(),
    )
    exception = do_propose_exception(
        db,
        alpha,
        exception_id=uuid.uuid4(),
        party="ALPHA",
        zone="limitation-alpha-0-10",
        category="tank",
        max_count=90,
        valid_from=clock.now(),
        valid_until=clock.now() + timedelta(days=7),
        now=clock.now(),
    )
    # Two indicators added through ALPHA's TAXII submission collection (so released to ALPHA
    # and the supervisor): one to read, one to delete; and the liaison's status resource.
    submissions = get_collection(db, alpha, CELL_ROOT, taxii_submitted("ALPHA"))
    kept, withdrawn = indicator("Route matrix kept"), indicator("Route matrix withdrawn")
    added = do_add_objects(
        db, alpha, collection=submissions, envelope={"objects": [kept, withdrawn]}, now=clock.now()
    )
    protection = _protection_cast(db, clock)
    verification = _verification_cast(db, clock)
    commercial = _commercial_cast(db, clock, verification["sha256"])
    diplomacy = _diplomacy_cast(db, clock)
    db.commit()
    return {
        **PATH_PARAMETERS,
        **protection,
        **verification,
        **commercial,
        **diplomacy,
        "taxii_object": kept["id"],
        "taxii_withdrawn": withdrawn["id"],
        "status_id": added.status.id,
        "key_id": keys[0],
        "message_id": str(message.id),
        "report_id": str(report.id),
        "baseline_id": str(baseline.id),
        "exception_id": str(exception.id),
    }


def _protection_cast(db: Session, clock: ManualClock) -> dict[str, str]:
    """A place HUM-1 proposed, ALPHA's no-strike list, an incident near a community in force
    attributed to ALPHA with its alert, and an activity ALPHA notified."""
    from tests.deconfliction.factories import notify

    from fusioncell.deconfliction.actions.incidents import do_report_incident
    from fusioncell.deconfliction.actions.registry import (
        do_propose_place,
        do_send_no_strike_lists,
        do_sign_place,
    )

    def viewer(username: str) -> Any:
        found = viewer_of(get_member_by_username(db, console(), username))
        db.commit()
        return found

    hum = viewer("hum1.coordinator")
    ring = [[36.54, 32.69], [36.60, 32.69], [36.60, 32.74], [36.54, 32.74], [36.54, 32.69]]
    community = do_propose_place(
        db,
        hum,
        place_id=uuid.uuid4(),
        kind="community",
        name="Route matrix community",
        population="Its residents",
        geometry={"type": "Polygon", "coordinates": [ring]},
        now=clock.now(),
    )
    for username in ("alpha.liaison", "bravo.liaison", "supervisor.chair"):
        do_sign_place(db, viewer(username), place_id=community.id, now=clock.now())
    place = do_propose_place(
        db,
        hum,
        place_id=uuid.uuid4(),
        kind="warehouse",
        name="Route matrix warehouse",
        geometry={"type": "Point", "coordinates": [36.58, 32.72]},
        now=clock.now(),
    )
    sent = do_send_no_strike_lists(
        db, viewer("supervisor.chair"), request_id=uuid.uuid4(), now=clock.now()
    )
    alpha_list = next(s for s in sent if s.party_id == stable_id("organisation", "ALPHA"))
    reported = do_report_incident(
        db,
        hum,
        incident_id=uuid.uuid4(),
        kind="threat",
        affects="community",
        target=str(community.id),
        occurred_at=clock.now(),
        description="Route matrix threat",
        attributed_to="ALPHA",
        now=clock.now(),
    )
    activity = notify(db, viewer("alpha.liaison"), now=clock.now())
    return {
        "place_id": str(place.id),
        "list_id": str(alpha_list.id),
        "incident_id": str(reported.incident.id),
        "alert_id": str(reported.alerts[0].id),
        "notification_id": str(activity.id),
    }


def _verification_cast(db: Session, clock: ManualClock) -> dict[str, str]:
    """ALPHA's complaint against BRAVO with a file attached, triaged, the verifier tasked, and
    its access request to ALPHA."""
    from fusioncell.verification.actions.complaints import do_file_complaint, do_store_evidence
    from fusioncell.verification.actions.investigation import (
        do_request_access,
        do_task_verifier,
        do_triage_complaint,
    )

    def viewer(username: str) -> Any:
        found = viewer_of(get_member_by_username(db, console(), username))
        db.commit()
        return found

    alpha, verifier = viewer("alpha.liaison"), viewer("verifier.lead")
    stored = do_store_evidence(
        db, alpha, b"Route matrix evidence", media_type="text/plain", now=clock.now()
    )
    case = do_file_complaint(
        db,
        alpha,
        case_id=uuid.uuid4(),
        allegation="Route matrix complaint",
        against="BRAVO",
        rule="R1",
        location={"type": "Point", "coordinates": [35.84, 33.15]},
        occurred_at=clock.now(),
        evidence=[stored.sha256],
        now=clock.now(),
    )
    do_triage_complaint(
        db,
        viewer("supervisor.chair"),
        case.id,
        step_id=uuid.uuid4(),
        triage="admissible",
        reasons="Route matrix",
        now=clock.now(),
    )
    do_task_verifier(db, verifier, case.id, step_id=uuid.uuid4(), now=clock.now())
    request = do_request_access(
        db, verifier, case.id, step_id=uuid.uuid4(), party="ALPHA", place="A hill", now=clock.now()
    )
    return {"case_id": str(case.id), "request_id": str(request.id), "sha256": stored.sha256}


def _diplomacy_cast(db: Session, clock: ManualClock) -> dict[str, str]:
    """An agreement in force with ALPHA's withdrawal in phases, and a meeting whose minutes
    both parties agreed."""
    from tests.diplomacy.factories import agreed_meeting, propose, sign_all

    def viewer(username: str) -> Any:
        found = viewer_of(get_member_by_username(db, console(), username))
        db.commit()
        return found

    version = propose(db, viewer("supervisor.chair"), now=clock.now())
    sign_all(db, viewer, version, now=clock.now())
    meeting = agreed_meeting(db, viewer, clock, agreement_id=version.agreement_id)
    from fusioncell.diplomacy.content import milestone_id

    return {
        "agreement_id": str(version.agreement_id),
        "number": "1",
        "milestone": str(milestone_id(version.agreement_id, "C2", "C2.1")),
        "meeting_id": str(meeting.id),
        "decision": "D1",
    }


def _commercial_cast(db: Session, clock: ManualClock, sha256: str) -> dict[str, str]:
    """ALPHA's active project financed by the host, a milestone with a file put before it
    (the same bytes as the complaint's, so one ``{sha256}`` names both), and a shipment
    through an agreed crossing."""
    from tests.commercial.factories import activate, crossing, declare, project

    from fusioncell.commercial.actions.evidence import do_store_evidence
    from fusioncell.commercial.actions.milestones import (
        do_add_milestone,
        do_attach_milestone_evidence,
    )

    def viewer(username: str) -> Any:
        found = viewer_of(get_member_by_username(db, console(), username))
        db.commit()
        return found

    alpha = viewer("alpha.liaison")
    crossing_id = crossing(db, viewer, now=clock.now())
    found = project(db, alpha, now=clock.now(), financing=["HOST"])
    activate(db, alpha, found, now=clock.now())
    milestone = do_add_milestone(
        db,
        alpha,
        found.id,
        milestone_id=uuid.uuid4(),
        title="Route matrix milestone",
        due_on=clock.now().date() + timedelta(days=30),
        now=clock.now(),
    )
    stored = do_store_evidence(
        db, alpha, b"Route matrix evidence", media_type="text/plain", now=clock.now()
    )
    assert stored.sha256 == sha256
    do_attach_milestone_evidence(
        db, alpha, found.id, milestone.id, step_id=uuid.uuid4(), evidence=[sha256], now=clock.now()
    )
    shipment = declare(db, alpha, found, crossing_id, now=clock.now())
    return {
        "project_id": str(found.id),
        "milestone_id": str(milestone.id),
        "shipment_id": str(shipment.id),
    }


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _send(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    actor: Actor,
    method: str,
    path: str,
    parameters: dict[str, str],
) -> Response:
    # Only what this request carries: a login earlier in the loop must not leak into it.
    client.cookies.clear()
    url = _PARAMETER.sub(lambda match: parameters[match.group(1)], path)
    headers = {"Accept": "application/json" if _is_api(path) else "text/html"}
    cookies: dict[str, str] = {}
    form = dict(FORM_BODIES.get((method, path), {}))
    json_body = JSON_BODIES.get((method, path))
    username = actor.username or "alpha.liaison"
    if (method, path) == ("POST", "/api/v1/auth/token"):
        json_body = {"username": username, "password": DEMO_PASSWORD}
    if (method, path) == ("POST", "/login"):
        form = {"username": username, "password": DEMO_PASSWORD, "next": "/"}

    csrf = f"anonymous-{uuid.uuid4()}"
    if actor.username is not None and _is_api(path):
        token = issue_token(db, settings, clock, actor.username)
        headers["Authorization"] = f"Bearer {token.secret}"
    elif actor.username is not None:
        session = start_session(db, settings, clock, actor.username)
        cookies["fc_session"] = session.secret
        csrf = session.csrf_token
    if not _is_api(path) and method == "POST":
        # The session's token; before login the double-submit cookie carries the same one.
        cookies["fc_csrf"] = csrf
        form["csrf_token"] = csrf
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return client.request(
        method,
        url,
        headers=headers,
        params=QUERIES.get((method, path)),
        json=json_body,
        data=form or None,
        follow_redirects=False,
    )


def _to_login(response: Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def _verdict(actor: Actor, method: str, path: str, response: Response) -> str | None:
    """What is wrong with the response, or None."""
    access = MATRIX[(method, path)]
    status = response.status_code
    if access == PUBLIC or (
        actor.role is not None and (access == ANY_MEMBER or actor.role in access)
    ):
        hidden = (method, path) in HIDDEN and status == 404
        if status in {401, 403} or hidden or status >= 500 or _to_login(response):
            return f"allowed, but got {status} {response.headers.get('location', '')}"
        if (method, path) in SUCCEEDS and status >= 400:
            return f"allowed, but its input was refused: {status} {response.text[:200]}"
        return None
    if actor.role is None:
        if _is_api(path):
            if status != 401 or response.headers["content-type"] != "application/problem+json":
                return f"unauthenticated API call should be a 401 problem, got {status}"
        elif not (
            _to_login(response)
            and response.headers["location"] == f"/login?next={response.request.url.path}"
        ):
            return f"unauthenticated page should redirect to login, got {status}"
        return None
    expected = 404 if actor.role in HIDDEN.get((method, path), frozenset()) else 403
    if status != expected:
        return f"refused, so {expected} was expected, got {status}"
    return None


# The answers come from the policy, the same over either database (every route is exercised
# on both by its track's tests): make test checks each role on one (marker share).
@pytest.mark.share
@pytest.mark.parametrize(
    "actor",
    [Actor(None, None), *(Actor(role, username) for role, username in ACTORS.items())],
    ids=lambda actor: actor.role.value if actor.role else "unauthenticated",
)
def test_each_route_answers_each_role_as_the_matrix_says(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    cast: dict[str, str],
    actor: Actor,
) -> None:
    problems = []
    for method, path in sorted(MATRIX):
        if (method, path) in STREAMS and actor.role is not None:
            continue
        response = _send(client, db, clock, settings, actor, method, path, cast)
        if (problem := _verdict(actor, method, path, response)) is not None:
            problems.append(f"{method} {path}: {problem}")

    assert problems == [], "\n".join(problems)


def _send_taxii(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    actor: Actor,
    method: str,
    path: str,
    case: TaxiiCase,
    cast: dict[str, str],
) -> Response:
    client.cookies.clear()
    parameters = {
        **cast,
        "api_root": CELL_ROOT,
        # The object deleted is not the one read: a deletion earlier in the loop would hide it.
        "object_id": cast["taxii_withdrawn" if method == "DELETE" else "taxii_object"],
    }
    if case.collection is not None:
        parameters["collection_id"] = TAXII_COLLECTIONS[case.collection]
    url = _PARAMETER.sub(lambda match: parameters[match.group(1)], path)
    headers = {"Accept": TAXII}
    if actor.username is not None:
        headers["Authorization"] = (
            f"Bearer {issue_token(db, settings, clock, actor.username).secret}"
        )
    content = None
    if method == "POST":
        headers["Content-Type"] = TAXII
        content = json.dumps(TAXII_ENVELOPE).encode()
    return client.request(method, url, headers=headers, content=content, follow_redirects=False)


def _taxii_error(response: Response, status: int) -> str | None:
    """What is wrong with a TAXII error message of this status, or None."""
    if response.status_code != status:
        return f"{status} expected, got {response.status_code} {response.text[:200]}"
    if response.headers.get("content-type") != TAXII:
        return f"not a TAXII error message: {response.headers.get('content-type')}"
    body = response.json()
    if body.get("http_status") != str(status) or not body.get("title"):
        return f"not a TAXII error message: {body}"
    return None


def _taxii_verdict(actor: Actor, case: TaxiiCase, response: Response) -> str | None:
    status = response.status_code
    if actor.role is None:
        if "www-authenticate" not in response.headers:
            return f"{status} without WWW-Authenticate"
        return _taxii_error(response, 401)
    if case.allowed == ANY_MEMBER or actor.role in case.allowed:
        if not 200 <= status < 300:
            return f"allowed, but got {status} {response.text[:200]}"
        if response.content and response.headers.get("content-type") != TAXII:
            return f"allowed, but answered {response.headers.get('content-type')}"
        return None
    return _taxii_error(response, 404 if actor.role in case.hidden else 403)


@pytest.mark.parametrize(
    "actor",
    [Actor(None, None), *(Actor(role, username) for role, username in ACTORS.items())],
    ids=lambda actor: actor.role.value if actor.role else "unauthenticated",
)
def test_each_taxii_route_answers_each_role_as_its_table_says(
    client: TestClient,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    cast: dict[str, str],
    actor: Actor,
) -> None:
    problems = []
    for method, path in sorted(TAXII_MATRIX):
        for case in TAXII_MATRIX[(method, path)]:
            response = _send_taxii(client, db, clock, settings, actor, method, path, case, cast)
            if (problem := _taxii_verdict(actor, case, response)) is not None:
                where = f" ({case.collection})" if case.collection else ""
                problems.append(f"{method} {path}{where}: {problem}")

    assert problems == [], "\n".join(problems)
