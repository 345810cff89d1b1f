from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in machinery: second factor, API lockout, idle sessions."""

    name = "accounts"
    verbose_name = "Accounts (second factor, lockout, sessions)"
