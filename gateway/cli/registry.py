"""Command groups contributed by the other parts, attached to the root app."""

from __future__ import annotations

import typer


def register_groups(app: typer.Typer) -> None:
    """Each part adds its Typer group here (one import, one line)."""
    from gateway.cli import agencies_cmd, clients_cmd, keys_cmd

    app.add_typer(agencies_cmd.app, name="agencies")
    from gateway.cli import contacts_cmd

    agencies_cmd.app.add_typer(contacts_cmd.app, name="contact")
    app.add_typer(clients_cmd.app, name="clients")
    app.add_typer(keys_cmd.app, name="keys")
    from gateway.cli import audit_cmd

    app.add_typer(audit_cmd.app, name="audit")
    from gateway.cli import policy_cmd

    app.add_typer(policy_cmd.app, name="policy")
    from gateway.cli import consent_cmd

    app.add_typer(consent_cmd.app, name="consent")
    from gateway.cli import kafka_cmd

    app.add_typer(kafka_cmd.app, name="kafka")
    from gateway.cli import schemas_cmd

    app.add_typer(schemas_cmd.app, name="schemas")
    from gateway.cli import directory_cmd, forms_cmd

    app.add_typer(directory_cmd.app, name="directory")
    app.add_typer(forms_cmd.app, name="forms")
    from gateway.cli import meal_cmd

    app.add_typer(meal_cmd.app, name="meal")
    app.add_typer(meal_cmd.staff_app, name="staff")
    from gateway.cli import pseudonymise_cmd

    app.command("pseudonymise")(pseudonymise_cmd.pseudonymise)
    from gateway.cli import connector_cmd

    app.add_typer(connector_cmd.app, name="connector")
    from gateway.cli import linkage_cmd

    app.add_typer(linkage_cmd.app, name="linkage")
    from gateway.cli import doctor_cmd

    app.command("doctor")(doctor_cmd.doctor)
