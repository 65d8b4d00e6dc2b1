"""nginx counts the views it answers from its cache by the app's rule (clinic_site/visits.py):
the crawler words in deploy/nginx/clinic.conf are the app's, so the two cannot drift.
What nginx then writes and the worker imports is checked through nginx in
tests/test_deploy_stack.py."""

import re

from clinic_site import visits
from tests.processes import BASE_DIR

CONF = (BASE_DIR / "deploy" / "nginx" / "clinic.conf").read_text()


def test_nginx_tells_crawlers_and_browsers_apart_as_the_app_does():
    [agents] = re.findall(r"^map \$http_user_agent \$view_agent \{\n(.*?)^\}", CONF, re.M | re.S)
    rules = re.findall(r'^\s*"~(\*?)([^"]+)" (\w+);', agents, re.M)
    # Case-insensitive, checked before the browser rule (nginx: the first regex that matches).
    assert rules == [("*", visits.BOT_PATTERN, "crawler"), ("", "^Mozilla/", "browser")]
