"""Managers may read the staff guide (its front-desk topics too), and the guide explains
the insight dashboard (added only when no topic has that title)."""

from clinic_site.permissions import grant
from django.db import migrations, models

TITLE = "How do I see which pages bring patients in, and how fast we answer?"
BODY = (
    "<ol>"
    "<li><p>On the admin home page, click “Insight”.</p></li>"
    "<li><p>The page shows the last 12 weeks. To see another period, change “From” and "
    "“To” and click “Show”.</p></li>"
    "<li><p>“Requests per week” shows how many requests came in each week, by office, by "
    "service and by the page the patient sent the form from.</p></li>"
    "<li><p>“Views and requests per page” shows how often each article, service, office "
    "and offer page was seen, and how many requests were sent from it for every 100 "
    "views. A page seen often that brings few requests may need a clearer invitation.</p>"
    "</li>"
    "<li><p>“Time to first contact” shows how many hours passed between a request arriving "
    "and its first change of status, for each person. Change the status as soon as you "
    "have called the patient back, so these figures stay true.</p></li>"
    "<li><p>Under each chart, “Download as CSV” gives the same figures for a "
    "spreadsheet.</p></li>"
    "</ol>"
    "<p>Views are counted without cookies and without storing anything about the visitor. "
    "Search engines and staff who are logged in are not counted.</p>"
)


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    grant(apps, schema_editor, "Managers", "guide", ["view_topic"])
    Topic = apps.get_model("guide", "Topic")
    if not Topic.objects.using(db).filter(title=TITLE).exists():
        Topic.objects.using(db).create(order=55, audience="front_desk", title=TITLE, body=BODY)


class Migration(migrations.Migration):
    dependencies = [
        ("guide", "0002_first_topics"),
        ("contact", "0008_status_changes_and_insight"),
    ]

    operations = [
        migrations.AlterField(
            model_name="topic",
            name="audience",
            field=models.CharField(
                choices=[
                    ("everyone", "Everyone"),
                    ("front_desk", "Front desk"),
                    ("content_editors", "Content editors"),
                ],
                default="everyone",
                help_text="Front desk (with Managers) or Content editors: only those groups "
                "(and superusers) see the topic in the staff guide. Everyone: all staff.",
                max_length=20,
                verbose_name="who it is for",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
