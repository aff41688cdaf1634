"""CLI commands and start-up steps: migrate the schema, create demo data in demo mode."""
from __future__ import annotations

import click
from flask_migrate import upgrade

from .seed import seed_demo_data


def prepare_database(app) -> None:
    """Bring the schema to the newest migration; in demo mode fill an empty database with the demo chain."""
    with app.app_context():
        upgrade()
        if app.config["DEMO_DATA"] and seed_demo_data():
            app.logger.info("empty database: demo chain created (logins in README.md)")


def register_commands(app) -> None:
    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo chain in an empty database (refused in production)."""
        if app.config["PRODUCTION"]:
            raise click.ClickException("demo data is never created in production")
        upgrade()
        click.echo("demo chain created" if seed_demo_data() else "database already has data; nothing done")
