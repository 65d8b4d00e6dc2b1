"""Two staff groups: "Front desk" handles consultation requests, "Content editors" the site.

They were made by contact's 0002 migration before the site owned them: a database that
has them keeps them as they are (staff may have changed their permissions); only a
missing group is made. Permissions are normally created after `migrate` finishes, so on a
fresh database they are created here first, from the historical models.
"""

from clinic_site.permissions import ensure_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Front desk": {
        ("contact", "consultationrequest"): ["view", "change"],
        ("contact", "staffnote"): ["view", "add", "change"],
        ("contact", "notificationrecipient"): ["view"],
    },
    "Content editors": {
        ("pages", "article"): ["add", "change", "delete", "view"],
        ("pages", "office"): ["add", "change", "delete", "view"],
        ("pages", "openinghours"): ["add", "change", "delete", "view"],
        ("pages", "closure"): ["add", "change", "delete", "view"],
        ("pages", "promotion"): ["add", "change", "delete", "view"],
        ("clinic_site", "clinicsettings"): ["view", "change"],
        ("contact", "privacynotice"): ["add", "change", "view"],
    },
}


def create_missing_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    missing = set(GROUP_PERMISSIONS) - set(Group.objects.using(db).values_list("name", flat=True))
    if not missing:
        return
    ensure_permissions(apps, schema_editor, "auth", "contenttypes", "clinic_site", "pages", "contact")
    for group_name in sorted(missing):
        group = Group.objects.using(db).create(name=group_name)
        group.permissions.add(
            *(
                Permission.objects.using(db).get(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename=f"{action}_{model}",
                )
                for (app_label, model), actions in GROUP_PERMISSIONS[group_name].items()
                for action in actions
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic_site", "0001_initial"),
        ("pages", "0002_move_clinic_settings"),
        ("contact", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Going back leaves the groups alone: they may be older than this migration.
    operations = [migrations.RunPython(create_missing_groups, migrations.RunPython.noop)]
