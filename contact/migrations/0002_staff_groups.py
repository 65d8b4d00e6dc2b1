"""Made the two staff groups; they now belong to the site: clinic_site/migrations/0002.

Kept, empty, because later migrations depend on it. A database migrated before the move
has the groups from here; clinic_site's migration makes them on a fresh one (where this
migration's own version would look for the clinic settings' permissions in ``pages``).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contact", "0001_initial"),
        ("pages", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = []
