"""Study ids: one pattern, checked by the model (so by every path: forms, API, import, admin)
and matched by every URL that carries one (the `study_id` path converter).

A study id is 1 to 24 ASCII letters, digits, hyphens and underscores, starting with a letter or
a digit (docs/data-model.md, "Study ids"). The registry allocates ``<site code>-<number>``
(``GB-LON-0001``); imported cohorts may bring their own ids, within the same pattern. So a study
id never holds a ``/`` (which would break its URLs), a space, a right-to-left override or other
invisible character, and never starts with a spreadsheet formula character (``=``, ``+``,
``-``, ``@``).
"""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.urls import register_converter

STUDY_ID_MAX_LENGTH = 24
STUDY_ID_REGEX = rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{STUDY_ID_MAX_LENGTH - 1}}}"
STUDY_ID_RULE = (
    f"A study id is 1 to {STUDY_ID_MAX_LENGTH} letters (A-Z, a-z), digits, hyphens and underscores, "
    "starting with a letter or a digit."
)
_STUDY_ID = re.compile(STUDY_ID_REGEX)
#: The whole value: `\A` and `\Z` mean the same in Python's and PostgreSQL's regular expressions
#: (a trailing newline does not pass, as it would with `$`), so the validator and the database's
#: CHECK constraint (registry.models.Patient) hold one rule.
STUDY_ID_PATTERN = rf"\A{STUDY_ID_REGEX}\Z"

validate_study_id = RegexValidator(STUDY_ID_PATTERN, STUDY_ID_RULE, code="invalid_study_id")


def is_study_id(value: str) -> bool:
    return _STUDY_ID.fullmatch(value) is not None


class StudyIdConverter:
    """`<study_id:study_id>` in a URL pattern: every valid study id, nothing else."""

    regex = STUDY_ID_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(StudyIdConverter, "study_id")
