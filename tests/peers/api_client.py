"""Calls the API through a client generated from its /openapi.json by
openapi-python-client, as an agency system's developer would: the first
missed hearings, one child's record, and a refused request as a problem.
Prints what it got, one fact a line.

Usage: api_client.py <generated package dir> <base url> <token>
"""

import sys

sys.path.insert(0, sys.argv[1])

from client import AuthenticatedClient  # noqa: E402
from client.api.views import child, fta  # noqa: E402

api = AuthenticatedClient(base_url=sys.argv[2], token=sys.argv[3])
page = fta.sync(client=api, limit=2)
print("page", type(page).__name__, page.total, len(page.items))
first = page.items[0]
print("hearing_at", type(first.hearing_at).__name__, first.hearing_at.isoformat())
record = child.sync(client=api, a_number=first.a_number).child
print("child", record.a_number, len(record.hearings), record.timeline[0].event)
refused = child.sync(client=api, a_number="A0")
print("refused", type(refused).__name__, refused.status, refused.parameter)
