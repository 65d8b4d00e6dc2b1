"""The staff guide's first topics, and who may read or edit them.

The front desk may read the guide. Content editors get on topics what they hold on
articles (all four actions unless staff narrowed the group), so a narrowed group stays as
narrow; a group staff removed gets nothing. Topics are added only to an empty guide.
"""

from clinic_site.permissions import ensure_permissions
from django.db import migrations


EVERYONE, FRONT_DESK, EDITORS = "everyone", "front_desk", "content_editors"

TOPICS = [
    (
        10,
        EVERYONE,
        "How do I change my password, or get in when I have forgotten it?",
        "<p>To change it while you are logged in:</p>"
        "<ol>"
        "<li><p>Click “Change password” at the top right of any admin page.</p></li>"
        "<li><p>Type your current password in “Old password”, then the new one in “New "
        "password” and again in “New password confirmation”.</p></li>"
        "<li><p>Click “Change my password”.</p></li>"
        "</ol>"
        "<p>If you have forgotten it:</p>"
        "<ol>"
        "<li><p>On the login page, click “Forgotten your login credentials?”.</p></li>"
        "<li><p>Type the email address of your account and click “Reset my password”.</p></li>"
        "<li><p>Open the email we send you and click its link (it works once, for 3 days). "
        "Type your new password twice and click “Save my password”: you are then logged "
        "in.</p></li>"
        "</ol>"
        "<p>No email after a few minutes? Check your spam folder, then ask the website's "
        "administrator (the person with a superuser account). After 5 wrong passwords in a "
        "row, logging in from your computer is paused for an hour; choosing a new password "
        "from the emailed link lets you in at once.</p>",
    ),
    (
        20,
        FRONT_DESK,
        "How do I handle a new consultation request?",
        "<ol>"
        "<li><p>On the admin home, under “Consultation requests”, click “New”, or click a "
        "request's number under “Newest requests”.</p></li>"
        "<li><p>In the list, click the patient's name to open the request. “The patient” "
        "shows their name, phone and email; “Their request” shows the office, the service, "
        "how and when they would like to be contacted, and their message.</p></li>"
        "<li><p>Call, text or email them the way they asked. In the list, the phone number "
        "is a link: on a phone, tap it to call.</p></li>"
        "<li><p>Under “Follow-up”, choose yourself in “Assigned to”, so that others know you "
        "have it. Set “Status” to “Contacted” once you have reached them, “Scheduled” once "
        "they have an appointment, or “Not a fit” if we cannot help.</p></li>"
        "<li><p>Write what happened in “Staff notes”, for example “Left a voicemail, will "
        "call again at 3pm”. Then click “Save”.</p></li>"
        "</ol>"
        "<p>To find a request again, type the patient's name, email or phone number in the "
        "search box at the top of the list. A phone number works typed any way: 8605550199, "
        "860-555-0199 or (860) 555-0199.</p>"
        "<p>A request still “New” after one business day counts as overdue on the admin "
        "home. “Needs review” means the website kept the request and told us, but something "
        "about how it arrived looked odd: if it is a real patient, carry on as usual; if not, "
        "set “Status” to “Spam”.</p>",
    ),
    (
        30,
        FRONT_DESK,
        "How do I erase a patient's data when they ask?",
        "<ol>"
        "<li><p>Go to “Consultation requests” and search for the patient by name, email or "
        "phone number: they may have sent more than one request.</p></li>"
        "<li><p>For one request: open it and click “Delete” at the bottom of the page. For "
        "several: tick them in the list, choose “Delete selected requests for good (a record "
        "without patient details is kept)” under “Action”, and click “Go”.</p></li>"
        "<li><p>The next page shows what will be deleted. Under “Why is it being erased?”, "
        "choose “The patient asked us to erase their details”.</p></li>"
        "<li><p>Click “Yes, erase it” (or “Yes, erase them”). This cannot be undone.</p></li>"
        "</ol>"
        "<p>The name, phone number, email, message and staff notes are gone for good. The "
        "website keeps only a record that the request existed (its number, when it arrived, "
        "the office, who erased it, when and why), with no patient details, under “Erased "
        "requests”. Also delete anything about the patient you wrote down elsewhere.</p>",
    ),
    (
        40,
        EDITORS,
        "How do I publish an article?",
        "<ol>"
        "<li><p>On the admin home, under “Website content”, click “Write an article” (or go "
        "to “Articles” and click “Add article”).</p></li>"
        "<li><p>Fill in “Title” (the “Slug”, the end of the article's web address, fills "
        "itself in), “Summary” (one or two sentences for lists and search engines) and "
        "“Body”. The toolbar above the body makes headings, lists, bold, italic and "
        "links.</p></li>"
        "<li><p>Optional: choose a picture in “Hero image” and describe it in “Picture "
        "description”.</p></li>"
        "<li><p>Under “Publishing”, choose the “Author” from the team, or type a “Guest "
        "author”.</p></li>"
        "<li><p>To check it first, leave “Status” on “Draft (only staff can see it)”, click "
        "“Save and continue editing”, then “View on site” at the top right.</p></li>"
        "<li><p>When it is ready, set “Status” to “Published”, click “Today” and “Now” beside "
        "“Publish date”, and click “Save”. It is on the website at once.</p></li>"
        "</ol>"
        "<p>To take an article off the website, set “Status” back to “Draft (only staff can "
        "see it)” and save.</p>",
    ),
    (
        50,
        EDITORS,
        "How do I schedule an article to appear later?",
        "<ol>"
        "<li><p>Write the article as for publishing it now (see “How do I publish an "
        "article?”).</p></li>"
        "<li><p>Set “Status” to “Published”.</p></li>"
        "<li><p>Beside “Publish date”, pick the day in “Date” and type the time in “Time” "
        "when it should appear, in the clinic's own time.</p></li>"
        "<li><p>Click “Save”. In the list of articles its status reads “Scheduled for” and "
        "the date and time, and the admin home counts it as scheduled.</p></li>"
        "</ol>"
        "<p>It appears on the website by itself at that time: there is no need to come back. "
        "To stop it, set “Status” back to “Draft (only staff can see it)”, or change the "
        "date, and save.</p>",
    ),
    (
        60,
        EDITORS,
        "How do I add a holiday or a day we close early?",
        "<ol>"
        "<li><p>Go to “Offices” and click “Add a holiday or half day” at the top "
        "right.</p></li>"
        "<li><p>Tick every office that is closed that day (the offices shown on the site are "
        "ticked to start with).</p></li>"
        "<li><p>Choose the “Date”, and type the “Reason” patients will see, for example "
        "“Thanksgiving”.</p></li>"
        "<li><p>Under “Closed”, choose “All day”, or “From a time: the offices close early” "
        "and type the time in “Closes early at”, for example 1pm.</p></li>"
        "<li><p>Click “Add the closure”.</p></li>"
        "</ol>"
        "<p>An office that already has a closure that day keeps it, and the message says "
        "which. To change or remove a single closure, open the office and use its “Special "
        "closures” table near the bottom (tick “Delete?” to remove one), then click “Save”. "
        "Past closures leave the form by themselves.</p>",
    ),
    (
        70,
        EDITORS,
        "How do I change an office's opening hours?",
        "<ol>"
        "<li><p>Go to “Offices” and click the office's name.</p></li>"
        "<li><p>Scroll to “Opening hours”. Each row is one opening: “Weekday”, “Opens” and "
        "“Closes”. Type times the way you write them: 9am, 12:30 PM, 5:30pm or "
        "17:30.</p></li>"
        "<li><p>To add a day, or a second opening on the same day (after a lunch break, say), "
        "click “Add another Opening hours” and fill in the new row. To remove one, tick its "
        "“Delete?” box.</p></li>"
        "<li><p>Click “Save”. The website shows the new hours at once.</p></li>"
        "</ol>"
        "<p>A day with no row shows as closed. For a single day off, add a holiday instead "
        "(see “How do I add a holiday or a day we close early?”).</p>",
    ),
    (
        80,
        EDITORS,
        "How do I change the offer (the first-responder discount)?",
        "<ol>"
        "<li><p>Go to “Promotions” and click the offer's title.</p></li>"
        "<li><p>Change what you need. “Amount” is the discount, for example 75.00. If the "
        "title, the description or another text names the amount (“$50”), change it there "
        "too: the form refuses a text that names another amount than “Amount”.</p></li>"
        "<li><p>Under “When and where it shows”: “Starts on” and “Ends on” (leave both empty "
        "for an offer with no end), “Shown on the site”, and “Show as site-wide banner” for "
        "the notice at the top of every page.</p></li>"
        "<li><p>Click “Save”. Every page shows the change at once, and after “Ends on” the "
        "offer disappears by itself.</p></li>"
        "</ol>"
        "<p>To stop an offer at once, untick “Shown on the site” and save.</p>",
    ),
    (
        90,
        EDITORS,
        "How do I undo a change?",
        "<ol>"
        "<li><p>Open what you changed (an article, an office, an offer, a page ...) and click "
        "“History” at the top right.</p></li>"
        "<li><p>The list shows every saved version: who saved it and when. To see what "
        "changed between two, tick both and click “compare”.</p></li>"
        "<li><p>Click the date of the version you want back, check it, and click “Save”. The "
        "website shows it again at once.</p></li>"
        "</ol>",
    ),
]


def permissions_and_first_topics(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ensure_permissions(apps, schema_editor, "guide")
    topic_permissions = Permission.objects.using(db).filter(content_type__app_label="guide")
    front_desk = Group.objects.using(db).filter(name="Front desk").first()
    if front_desk is not None:
        front_desk.permissions.add(*topic_permissions.filter(codename="view_topic"))
    editors = Group.objects.using(db).filter(name="Content editors").first()
    if editors is not None:
        actions = [
            codename.removesuffix("_article")
            for codename in editors.permissions.filter(
                content_type__app_label="pages", content_type__model="article"
            ).values_list("codename", flat=True)
        ]
        editors.permissions.add(
            *topic_permissions.filter(codename__in=[f"{action}_topic" for action in actions])
        )
    Topic = apps.get_model("guide", "Topic")
    if not Topic.objects.using(db).exists():
        Topic.objects.using(db).bulk_create(
            Topic(order=order, audience=audience, title=title, body=body)
            for order, audience, title, body in TOPICS
        )


class Migration(migrations.Migration):
    dependencies = [
        ("guide", "0001_topic"),
        ("clinic_site", "0002_staff_groups"),
        ("pages", "0004_content_editors_and_default_menu"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(permissions_and_first_topics, migrations.RunPython.noop)]
