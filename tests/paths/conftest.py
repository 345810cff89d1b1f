"""The four-path tests build on the interchange tests' sites and clean cohort."""

from tests.interchange.conftest import sites  # noqa: F401 - a fixture
