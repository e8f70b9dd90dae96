"""The image cache API (2.14) over the page cache, through the real glanceclient (library and CLI)."""
import io
import os
import subprocess
import sys
import time

import pytest
import requests
from glanceclient import exc

from conftest import identity


def random_bytes(n):
    return os.urandom(n)


def cached_ids(glance):
    listing = glance.cache.list()
    return [i["image_id"] for i in listing["cached_images"]], listing["queued_images"]


def wait_cached(glance, image_id):
    for _ in range(200):
        if image_id in cached_ids(glance)[0]:
            return True
        time.sleep(0.05)
    return False


def test_cache_cycle(server, glance, tmp_path):
    assert "v2.14" in [v["id"] for v in requests.get(f"{server}/versions").json()["versions"]]
    image = glance.images.create(name="warm", disk_format="raw", container_format="bare")
    with pytest.raises(exc.HTTPBadRequest):
        glance.cache.queue(image["id"])  # no data yet: only active images
    data = random_bytes(8_000_000)
    glance.images.upload(image["id"], io.BytesIO(data))
    with pytest.raises(exc.HTTPNotFound):
        glance.cache.queue("3f1d2c7e-0000-4000-8000-000000000000")

    glance.cache.queue(image["id"])
    assert wait_cached(glance, image["id"])
    assert b"".join(glance.images.data(image["id"])) == data
    entry = next(i for i in glance.cache.list()["cached_images"] if i["image_id"] == image["id"])
    assert entry["hits"] == 1 and entry["size"] == len(data)

    # The `glance` CLI of this virtualenv lists it too.
    glance_cli = os.path.join(os.path.dirname(sys.executable), "glance")
    env = dict(os.environ, OS_IMAGE_URL=server, OS_AUTH_TOKEN="x")
    out = subprocess.run([glance_cli, "cache-list"], env=env, capture_output=True, text=True, check=True).stdout
    assert image["id"] in out

    glance.cache.delete(image["id"])
    assert image["id"] not in cached_ids(glance)[0]
    glance.cache.queue(image["id"])
    assert wait_cached(glance, image["id"])
    glance.cache.clear("queue")
    assert image["id"] in cached_ids(glance)[0]
    glance.cache.clear("both")
    assert cached_ids(glance) == ([], [])
    r = requests.delete(f"{server}/v2/cache", headers={"x-image-cache-clear-target": "disk", "Accept": "application/json"})
    assert r.status_code == 400 and "x-image-cache-clear-target" in r.json()["message"]
    # The image and its data are untouched by all of it.
    assert b"".join(glance.images.data(image["id"])) == data


def test_cache_is_for_admins(headers_server):
    r = requests.get(f"{headers_server}/v2/cache", headers={**identity("acme"), "Accept": "application/json"})
    assert r.status_code == 403
