"""`fhir-gateway keys rotate`: add a new data-encryption key; older keys stay for reading."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Encryption key management.", no_args_is_help=True)

    @keys.command()
    def rotate() -> None:
        """Add a new key version and make it current. Existing rows stay readable with their old key."""
        from fhir_gateway.config import get_settings
        from fhir_gateway.crypto.keyring import load_or_create_keyring, rotate_keyring_file

        settings = get_settings()
        if settings.keyring_json:
            raise typer.BadParameter(
                "the keyring comes from GATEWAY_KEYRING_JSON; rotate it where it is managed"
            )
        path = settings.resolved_keyring_file
        load_or_create_keyring(path)
        keyring = rotate_keyring_file(path)
        typer.echo(f"current data key version is now {keyring.current}; restart the service to use it")

    app.add_typer(keys, name="keys")
