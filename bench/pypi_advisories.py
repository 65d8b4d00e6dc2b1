"""Known vulnerabilities in requirements.lock, from PyPI's project pages: `make audit`'s
fallback when pip-audit cannot reach its data.

pip-audit asks PyPI for each pinned release (``/pypi/NAME/VERSION/json``). Where only the
project page (``/pypi/NAME/json``) is reachable, as behind some registry mirrors, this
script reads that page instead. Its ``vulnerabilities`` list describes the project's newest
release, so it answers for every pin that *is* the newest release; for an older pin it
says so and whether a newer release inside the same minor series exists, and counts the
pin as not checked::

    .venv/bin/python bench/pypi_advisories.py [requirements.lock]

Exit status: 0 when no known vulnerability was found (even if some pins could not be
checked: they are listed), 1 when one was found, 2 when PyPI could not be read at all.
"""

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from packaging.version import Version

# PYPI_JSON_URL: another index with PyPI's JSON API (the tests point it at a local server).
INDEX = os.environ.get("PYPI_JSON_URL", "https://pypi.org/pypi/{name}/json")


def read_pins(path: Path) -> list[tuple[str, str]]:
    pins = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins.append((name.strip(), version.strip()))
    return pins


def newer_in_series(releases: dict, pinned: Version) -> list[str]:
    """Releases after ``pinned`` with the same major.minor (a patch we could take)."""
    newer = []
    for text, files in releases.items():
        try:
            version = Version(text)
        except ValueError:
            continue
        if (
            files
            and not version.is_prerelease
            and version.release[:2] == pinned.release[:2]
            and version > pinned
        ):
            newer.append(text)
    return sorted(newer, key=Version)


def main() -> int:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock")
    pins = read_pins(lock)
    found, unchecked, unreadable = [], [], []
    for name, version in pins:
        try:
            with urllib.request.urlopen(INDEX.format(name=name), timeout=30) as response:
                project = json.load(response)
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            unreadable.append(f"{name}: {exc}")
            continue
        latest = project["info"]["version"]
        if Version(latest) == Version(version):
            for advisory in project.get("vulnerabilities") or []:
                found.append(
                    f"{name}=={version}: {advisory.get('id')} "
                    f"(fixed in {', '.join(advisory.get('fixed_in') or []) or 'no release'}) "
                    f"{(advisory.get('summary') or advisory.get('details') or '')[:120]}"
                )
        else:
            patches = newer_in_series(project.get("releases", {}), Version(version))
            note = (
                f"newer patch in its series: {patches[-1]}" if patches else "newest in its series"
            )
            unchecked.append(f"{name}=={version} (newest release {latest}; {note})")

    checked = len(pins) - len(unchecked) - len(unreadable)
    print(f"PyPI project pages: {checked} of {len(pins)} pins are their project's newest release")
    print(f"and were checked: {len(found)} known vulnerabilities.")
    for line in found:
        print(f"  VULNERABLE {line}")
    if unchecked:
        print("Not checked here (PyPI lists advisories for the newest release only):")
        for line in unchecked:
            print(f"  {line}")
    if unreadable:
        print("Could not read:")
        for line in unreadable:
            print(f"  {line}")
    if found:
        return 1
    return 2 if unreadable and not checked else 0


if __name__ == "__main__":
    sys.exit(main())
