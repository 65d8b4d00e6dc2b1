"""Lighthouse scores for every public page type, from a server this script starts itself.

Run it from the project folder (``make audit``; it is not part of the test run)::

    .venv/bin/python bench/lighthouse_audit.py

It migrates a temporary SQLite database, loads the demo content, starts gunicorn with
``DJANGO_DEBUG=0`` on a free port (static files and the demo pictures served by
WhiteNoise), then runs Lighthouse (``node_modules/.bin/lighthouse``, from ``npm ci``) on
Debian's Chromium with the mobile form factor (Lighthouse's default) and the categories
performance, accessibility, best practices and SEO. It prints the four scores per page and
every audit that did not pass, with the pages it failed on.

Scores below 100 are reported, not enforced: the exit status is 1 only when something
crashed (the server, or Lighthouse on a page).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package
from support import BASE_DIR, HOST, Gunicorn, TempSite, free_port  # noqa: E402

LIGHTHOUSE = BASE_DIR / "node_modules" / ".bin" / "lighthouse"
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
    "--disable-background-networking "
    '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"'
)
CATEGORIES = {
    "performance": "Perf",
    "accessibility": "A11y",
    "best-practices": "Best pr.",
    "seo": "SEO",
}
# One page of each public type, as the demo content (pages/demo_content.py) creates them.
PAGES = {
    "home": "/",
    "article list": "/articles/",
    "article": "/articles/understanding-dry-needling-back-shoulder-pain/",
    "office list": "/offices/",
    "office": "/offices/bloomfield/",
    "promotion": "/offers/first-responder-discount/",
    "consultation form": "/consultation/",
    "privacy notice": "/privacy/",
}
NOT_FAILED = {"notApplicable", "manual", "informative", "error"}


def _production_static_files():
    """Static files as in production, collected into the temporary folder.

    Hashed, compressed copies (WhiteNoise's CompressedManifestStaticFilesStorage) in
    ``AUDIT_STATIC_ROOT``, so the audit never writes to the checkout's staticfiles folder,
    whose presence changes how everyone's local server serves static files.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.STATIC_ROOT = Path(os.environ["AUDIT_STATIC_ROOT"])
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    return settings


def collectstatic():
    from django.core.management import call_command

    _production_static_files()
    # Only what the public pages use: admin and the editor would add a minute of compression.
    call_command(
        "collectstatic",
        interactive=False,
        verbosity=0,
        ignore_patterns=["admin", "django_prose_editor"],
    )


def wsgi_app():
    """The site as gunicorn serves it here: the project's WSGI app, plus the uploads.

    With DEBUG off the project serves no media; here WhiteNoise serves MEDIA_ROOT too, so
    the pictures load as they would from the production web server.
    """
    settings = _production_static_files()
    from django.core.wsgi import get_wsgi_application
    from whitenoise import WhiteNoise

    application = WhiteNoise(get_wsgi_application())
    application.add_files(str(settings.MEDIA_ROOT), prefix=settings.MEDIA_URL)
    return application


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=PAGES, help="audit only this page")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database, reports)"
    )
    return parser.parse_args()


class Audit:
    def __init__(self, args, site: TempSite):
        self.args = args
        self.site = site
        self.tmp = site.tmp
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        site.env.update(
            {
                "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
                "AUDIT_STATIC_ROOT": str(self.tmp / "static"),
                "SITE_URL": self.base_url,
            }
        )
        self.env = site.env

    def lighthouse(self, name: str, path: str, attempts: int = 3) -> dict | None:
        """Lighthouse's JSON report for one page, or None when Lighthouse failed.

        Chrome sometimes loses the trace of a page load (Lighthouse: NO_NAVSTART, "Please run
        Lighthouse again"); such a run is tried again, up to ``attempts`` times in all."""
        for attempt in range(1, attempts + 1):
            report, error = self._lighthouse_once(name, path)
            if report is not None:
                return report
            if "run Lighthouse again" not in error or attempt == attempts:
                print(f"\nLighthouse failed on {name} ({path}): {error}")
                return None
            print(f"  (Lighthouse lost the trace of {name}, attempt {attempt}: trying again)")
        return None

    def _lighthouse_once(self, name: str, path: str) -> tuple[dict | None, str]:
        slug = name.replace(" ", "-")
        output = self.tmp / f"{slug}.report.json"
        output.unlink(missing_ok=True)
        profile = self.tmp / f"chrome-profile-{slug}"
        shutil.rmtree(profile, ignore_errors=True)
        command = [
            str(LIGHTHOUSE),
            self.base_url + path,
            "--output=json",
            f"--output-path={output}",
            "--only-categories=" + ",".join(CATEGORIES),
            f"--chrome-flags={CHROME_FLAGS} --user-data-dir={profile}",
            "--quiet",
        ]
        done = subprocess.run(
            command,
            cwd=BASE_DIR,
            env={**os.environ, "CHROME_PATH": CHROME_PATH},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not output.exists():
            return None, f"exit {done.returncode}:\n{done.stderr[-2000:]}"
        report = json.loads(output.read_text())
        if report.get("runtimeError"):
            return None, f"{report['runtimeError']}"
        return report, ""

    def run(self) -> int:
        for what, path in (("Lighthouse", LIGHTHOUSE), ("Chromium", Path(CHROME_PATH))):
            if not path.exists():
                print(f"{what} not found at {path}: run `npm ci` / `apt-get install chromium`.")
                return 1
        pages = {name: PAGES[name] for name in self.args.only or PAGES}
        self.site.setup()
        subprocess.run(
            [sys.executable, __file__, "--collectstatic"], cwd=BASE_DIR, env=self.env, check=True
        )
        server = Gunicorn(
            self.env,
            self.port,
            app="lighthouse_audit:wsgi_app()",
            options=["--pythonpath", f"{BASE_DIR},{BASE_DIR / 'bench'}"],
            workers=2,
            threads=4,
            log=self.site.log,
        )
        with server:
            server.wait_until_ready("/", interval=0.2)
            return self.audit_pages(pages)

    def audit_pages(self, pages: dict) -> int:
        """Lighthouse on each page; the scores, the audits not passed, the server's errors."""
        version = subprocess.run(
            [str(LIGHTHOUSE), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        print(f"Lighthouse {version}, mobile, on {CHROME_PATH}; site at {self.base_url}\n")

        rows, failures, crashed = [], {}, []
        for name, path in pages.items():
            report = self.lighthouse(name, path)
            if report is None:
                crashed.append(name)
                rows.append((name, path, ["crash"] * len(CATEGORIES)))
                continue
            scores = []
            for category_id in CATEGORIES:
                category = report["categories"][category_id]
                score = category["score"]
                scores.append("n/a" if score is None else str(round(score * 100)))
                for ref in category["auditRefs"]:
                    audit = report["audits"][ref["id"]]
                    if audit["scoreDisplayMode"] in NOT_FAILED or audit["score"] is None:
                        continue
                    if ref.get("group") == "hidden":  # Lighthouse's duplicates of shown audits
                        continue
                    if audit["score"] < 1 and (ref.get("weight") or category_id == "performance"):
                        entry = failures.setdefault(
                            (category_id, ref["id"]), {"title": audit["title"], "pages": {}}
                        )
                        detail = audit.get("displayValue") or f"score {audit['score']:.2f}"
                        entry["pages"][name] = detail
            rows.append((name, path, scores))
            print(f"  audited {name:<18} {' '.join(f'{s:>4}' for s in scores)}", flush=True)

        self.print_table(rows)
        self.print_failures(failures, len(pages))
        log_errors = [line for line in self.site.log.read_text().splitlines() if "Error" in line]
        if log_errors:
            print("\nErrors in the server log:", *log_errors[-5:], sep="\n  ")
        if crashed:
            print(f"\nCRASHED on: {', '.join(crashed)}")
            return 1
        return 0

    def print_table(self, rows):
        width = max(len(f"{name} ({path})") for name, path, _ in rows)
        header = f"{'page':<{width}}  " + "  ".join(f"{c:>8}" for c in CATEGORIES.values())
        print("\n" + header)
        print("-" * len(header))
        for name, path, scores in rows:
            label = f"{name} ({path})"
            print(f"{label:<{width}}  " + "  ".join(f"{s:>8}" for s in scores))

    def print_failures(self, failures, page_count):
        if not failures:
            print("\nEvery weighted audit passed on every page.")
            return
        print("\nAudits not passed (performance: metrics and diagnostics; others: weighted ones):")
        for (category_id, audit_id), entry in sorted(failures.items()):
            pages = entry["pages"]
            where = "all pages" if len(pages) == page_count else ", ".join(pages)
            values = sorted(set(pages.values()))
            shown = values[0] if len(values) == 1 else f"{values[0]} … {values[-1]}"
            print(f"  [{CATEGORIES[category_id]}] {audit_id}: {entry['title']}")
            print(f"      on {where} ({shown})")


def main() -> int:
    if sys.argv[1:] == ["--collectstatic"]:  # run by Audit.run() in the audit's environment
        sys.path.insert(0, str(BASE_DIR))
        collectstatic()
        return 0
    args = parse_args()
    with TempSite(
        "lighthouse-audit-",
        keep=args.keep,
        kept_note=" (database, gunicorn.log, Lighthouse reports)",
        sqlite_name="audit.sqlite3",
        use_database_url=False,  # always a database of its own
    ) as site:
        return Audit(args, site).run()


if __name__ == "__main__":
    sys.exit(main())
