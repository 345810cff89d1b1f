from tests.api.personas import client_for, full_patient, world  # noqa: F401  (fixtures)
