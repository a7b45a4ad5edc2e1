from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Imported for their receivers: publishing to the gateway, revoking playground keys.
        from accounts import session_keys, signals  # noqa: F401
