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


def grant(apps, schema_editor, group_name: str, app_label: str, codenames) -> None:
    """Give the staff group ``group_name``, if staff kept it, these permissions of one app
    (a group staff removed gets nothing back)."""
    db = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(db).filter(name=group_name).first()
    if group is None:
        return
    ensure_permissions(apps, schema_editor, app_label)
    codenames = set(codenames)
    found = list(
        apps.get_model("auth", "Permission")
        .objects.using(db)
        .filter(content_type__app_label=app_label, codename__in=codenames)
    )
    if len(found) != len(codenames):
        raise LookupError(
            f"{app_label} has no permission {codenames - {p.codename for p in found}}"
        )
    group.permissions.add(*found)
