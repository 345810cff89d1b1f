"""Fixtures shared by the security tests: the API personas (two sites, a user per role)."""

from tests.api.personas import client_for, full_patient, world  # noqa: F401  (fixtures)
