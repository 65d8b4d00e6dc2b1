"""Content editors may edit the new content; a site that had a fixed menu keeps it.

The group (if it still exists) gets on the new models the actions it holds on articles,
so a group staff narrowed stays as narrow. The menu and footer get the links the header
and footer had before they came from the database, unless someone has already made some.
"""

from clinic_site.permissions import ensure_permissions
from django.db import migrations

NEW_MODELS = ["service", "clinician", "page", "menuitem", "homepage"]
DEFAULT_LINKS = {
    "main": ["home", "services", "team", "articles", "offices", "consultation"],
    "footer": ["services", "team", "offices", "consultation", "privacy"],
}


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors = Group.objects.using(db).filter(name="Content editors").first()
    if editors is not None:
        ensure_permissions(apps, schema_editor, "pages")
        actions = [
            codename.removesuffix("_article")
            for codename in editors.permissions.filter(
                content_type__app_label="pages", content_type__model="article"
            ).values_list("codename", flat=True)
        ]
        editors.permissions.add(
            *Permission.objects.using(db).filter(
                content_type__app_label="pages",
                codename__in=[f"{a}_{model}" for a in actions for model in NEW_MODELS],
            )
        )
    MenuItem = apps.get_model("pages", "MenuItem")
    if not MenuItem.objects.using(db).exists():
        MenuItem.objects.using(db).bulk_create(
            MenuItem(location=location, section=section, order=10 * (index + 1))
            for location, sections in DEFAULT_LINKS.items()
            for index, section in enumerate(sections)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0003_services_team_pages_menu_home"),
        ("clinic_site", "0002_staff_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
