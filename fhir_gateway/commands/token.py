"""`fhir-gateway token`: mint a local HS256 bearer token (the token alone on stdout)."""

from __future__ import annotations

import typer

from fhir_gateway.security.roles import DEFAULT_SCOPES, ROLES


def register(app: typer.Typer) -> None:
    @app.command()
    def token(
        role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}."),
        sub: str = typer.Option(
            "local-user", help="Subject (user or client id) recorded in the audit trail."
        ),
        scope: str | None = typer.Option(None, help="SMART scopes; default: the role's default scopes."),
        ttl: int = typer.Option(3600, min=1, help="Lifetime in seconds."),
        patient: str | None = typer.Option(None, help="Patient id for patient-context (patient/…) scopes."),
    ) -> None:
        """Print a signed token for local use, e.g. TOKEN=$(fhir-gateway token --role clinician)."""
        from fhir_gateway.config import get_settings
        from fhir_gateway.security.tokens import load_or_create_secret, mint_token

        if role not in ROLES:
            raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
        settings = get_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret = load_or_create_secret(settings)
        typer.echo(
            mint_token(
                settings,
                secret,
                sub=sub,
                role=role,
                scope=scope or DEFAULT_SCOPES[role],
                ttl_seconds=ttl,
                patient=patient,
            )
        )
