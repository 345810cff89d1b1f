"""Property-based run of schemathesis over the OpenAPI schema: no request gives a server error.

It runs as a data manager (every endpoint, every site, writes allowed) against the WSGI app
in-process, with hypothesis generating requests for every operation of the schema. Django's
test client stops closing the connection at the end of each request (that would end the test
transaction); schemathesis's WSGI transport does not, so the same signal handlers are
disconnected here for the duration of the test.

One test walks every operation (rather than `schema.parametrize()`): schemathesis 4.32's
pytest integration rewrites node ids through `Node._nodeid`, which pytest 9 removed.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def data_manager_headers(world, full_patient):
    full_patient(world.london)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Token {Token.objects.create(user=world.data_manager).key}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_generated_request_gives_a_server_error(data_manager_headers):
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    operations = [result.ok() for result in schema.get_all_operations()]
    server_errors: list[str] = []
    statuses: Counter[int] = Counter()

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(app=app, headers=data_manager_headers)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r}")

        call()

    assert len(operations) > 60
    assert server_errors == []
    assert statuses[200] > 100  # authenticated and reaching the data, not bounced at the door
