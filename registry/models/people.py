"""Sites and users: who works where, in which role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

from registry.models.choices import Role


class Site(models.Model):
    """A treating centre. Its code prefixes the study ids of its patients (GB-LON-0001)."""

    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2}-[A-Z0-9]{2,8}$", "Use a code like GB-LON: country, hyphen, centre.")],
    )
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="GB")
    next_patient_number = models.PositiveIntegerField(default=1, editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A registry user. Clinicians and pharmacists see only their sites' patients."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    sites = models.ManyToManyField(Site, blank=True, related_name="users")
    is_site_lead = models.BooleanField(
        "site lead",
        default=False,
        help_text="Manages the users of their own sites (invite, deactivate, reset 2FA), up to their own role.",
    )

    @property
    def is_site_scoped(self) -> bool:
        return self.role in (Role.CLINICIAN, Role.PHARMACIST) and not self.is_superuser
