"""Two staff groups: "Front desk" handles consultation requests, "Content editors" the site.

Permissions are normally created after `migrate` finishes (post_migrate signal), so on a
fresh database they do not exist yet when this runs: create them first from the
historical models.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FRONT_DESK = "Front desk"
CONTENT_EDITORS = "Content editors"

GROUP_PERMISSIONS = {
    FRONT_DESK: {
        ("contact", "consultationrequest"): ["view", "change"],
        ("contact", "staffnote"): ["view", "add", "change"],
        ("contact", "notificationrecipient"): ["view"],
    },
    CONTENT_EDITORS: {
        ("pages", "article"): ["add", "change", "delete", "view"],
        ("pages", "office"): ["add", "change", "delete", "view"],
        ("pages", "openinghours"): ["add", "change", "delete", "view"],
        ("pages", "closure"): ["add", "change", "delete", "view"],
        ("pages", "promotion"): ["add", "change", "delete", "view"],
        ("pages", "clinicsettings"): ["view", "change"],
        ("contact", "privacynotice"): ["add", "change", "view"],
    },
}


def ensure_permissions(apps, schema_editor):
    for label in ["auth", "contenttypes", "pages", "contact"]:
        app_config = apps.get_app_config(label)
        # Historical app configs have no models module; create_permissions skips those.
        app_config.models_module = True
        try:
            create_permissions(
                app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias
            )
        finally:
            app_config.models_module = None


def create_groups(apps, schema_editor):
    ensure_permissions(apps, schema_editor)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    for group_name, by_model in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(db).get_or_create(name=group_name)
        permissions = []
        for (app_label, model), actions in by_model.items():
            for action in actions:
                permissions.append(
                    Permission.objects.using(db).get(
                        content_type__app_label=app_label,
                        content_type__model=model,
                        codename=f"{action}_{model}",
                    )
                )
        group.permissions.add(*permissions)


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=list(GROUP_PERMISSIONS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0001_initial"),
        ("pages", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, delete_groups),
    ]
