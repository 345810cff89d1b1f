"""django-otp's TOTP device admin, with its configuration and QR code pages a 404 (not a 500)
for a device that does not exist."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice


class RegistryTOTPDeviceAdmin(TOTPDeviceAdmin):
    def config_view(self, request: HttpRequest, pk: Any) -> Any:
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request: HttpRequest, pk: Any) -> Any:
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, RegistryTOTPDeviceAdmin)
