"""Pictures answer 200 wherever the app runs without nginx in front (clinic_site/media.py).

``make run`` (DEBUG on) and ``make serve`` (DEBUG off, gunicorn): every picture a page
links, ``og:image`` included, through the test client with DEBUG off and on, then through
one real gunicorn with the production config. Nothing outside MEDIA_ROOT is served. Behind
nginx (which serves /media/ itself): tests/test_deploy_stack.py::test_media_file_from_nginx.
"""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .factories import ArticleFactory, OfficeFactory, image_bytes
from .processes import HOST, AppServer, Browser
from .smtp_server import free_port
from .test_production import demo_site_env

pytestmark = pytest.mark.django_db

WEEK = "max-age=604800"
TYPES = {".jpg": "image/jpeg", ".webp": "image/webp"}


def linked_pictures(html: str) -> set[str]:
    """Every /media/ path a page links: ``<picture>`` sources and og/twitter images."""
    urls = set()
    for value in re.findall(r'(?:srcset|src|content)="([^"]*/media/[^"]*)"', html):
        urls |= {entry.split()[0] for entry in value.split(",")}
    return {re.sub(r"^https?://[^/]+", "", url) for url in urls}


def og_image(html: str) -> str:
    match = re.search(r'<meta property="og:image" content="([^"]+)"', html)
    assert match, "no og:image on the page"
    return match.group(1)


def with_picture(obj):
    obj.image.save("picture.jpg", ContentFile(image_bytes(1600, 900)), save=False)
    obj.image_alt = "A picture"
    obj.save()
    return obj


@pytest.mark.parametrize("debug", [False, True], ids=["make-serve", "make-run"])
def test_every_linked_picture_and_og_image_answers_200(client, clinic, settings, debug):
    settings.DEBUG = debug
    site = settings.SITE_URL.rstrip("/")
    for obj in (with_picture(ArticleFactory()), with_picture(OfficeFactory())):
        page = client.get(obj.get_absolute_url())
        assert page.status_code == HTTPStatus.OK
        html = page.content.decode()
        paths = linked_pictures(html)
        assert og_image(html).startswith(site + "/media/renditions/")
        assert og_image(html).removeprefix(site) in paths
        assert len(paths) == 6, paths  # 3 widths in WebP and JPEG
        for path in paths:
            response = client.get(path)
            assert response.status_code == HTTPStatus.OK, path
            assert response["Content-Type"] == TYPES[Path(path).suffix], path
            assert response["X-Content-Type-Options"] == "nosniff"
            assert WEEK in response["Cache-Control"] and "public" in response["Cache-Control"]
            name = path.removeprefix(settings.MEDIA_URL)
            with default_storage.open(name) as stored:
                assert b"".join(response.streaming_content) == stored.read()


def test_an_unchanged_picture_answers_304(client):
    path = with_picture(ArticleFactory()).image.url
    first = client.get(path)
    assert first.status_code == HTTPStatus.OK
    again = client.get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED


def test_nothing_outside_media_root_nor_a_listing_is_served(client, settings, tmp_path):
    (tmp_path / "secret.txt").write_text("not for visitors")  # MEDIA_ROOT is tmp_path/media
    with_picture(ArticleFactory())
    for path in (
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/articles/../../secret.txt",
        "/media//etc/passwd",
        "/media/articles/",
        "/media/articles",
    ):
        response = client.get(path)
        assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND), path
        assert b"not for visitors" not in response.content, path
    assert client.post("/media/articles/picture.jpg").status_code == 405


def test_behind_nginx_the_app_can_leave_media_alone(client, settings):
    path = with_picture(ArticleFactory()).image.url
    assert client.get(path).status_code == HTTPStatus.OK
    settings.SERVE_MEDIA = False
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND


def test_make_serve_gunicorn_answers_pictures_and_og_image(tmp_path):
    """What `make serve` runs (gunicorn -c clinic_site/gunicorn.conf.py, DEBUG off) on a
    migrated SQLite file with the demo content: the article's pictures answer 200."""
    port = free_port()
    env = demo_site_env(tmp_path, port)
    app = AppServer(env, port, tmp_path / "gunicorn.log", workers=1).start()
    try:
        app.wait_until_ready()
        browser = Browser(port)
        listing = browser.get("/articles/")
        assert listing.status == HTTPStatus.OK
        article = re.search(r'href="(/articles/[\w-]+/)"', listing.text).group(1)
        page = browser.get(article)
        assert page.status == HTTPStatus.OK
        paths = linked_pictures(page.text)
        assert og_image(page.text).startswith(f"http://{HOST}:{port}/media/renditions/")
        assert og_image(page.text).removeprefix(f"http://{HOST}:{port}") in paths
        # The hero's six copies (two formats, three widths), and the related cards' pictures.
        slug = article.rstrip("/").rsplit("/", 1)[-1]
        assert len([path for path in paths if f"/{slug}." in path]) == 6, paths
        for path in paths:
            response = browser.get(path)
            assert response.status == HTTPStatus.OK, (path, app.tail())
            assert response.header("Content-Type") == TYPES[Path(path).suffix]
            assert response.header("X-Content-Type-Options") == "nosniff"
    finally:
        app.stop(grace=10)
