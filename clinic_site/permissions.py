"""For data migrations that grant permissions to the staff groups."""

from django.contrib.auth.management import create_permissions


def ensure_permissions(apps, schema_editor, *labels: str) -> None:
    """Create the permissions of the apps ``labels`` from the historical models, now:
    Django creates them only after ``migrate`` finishes, too late for a migration on a
    fresh database that grants them."""
    for label in labels:
        app_config = apps.get_app_config(label)
        # Historical app configs have no models module; create_permissions skips those.
        app_config.models_module = True
        try:
            create_permissions(
                app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias
            )
        finally:
            app_config.models_module = None
