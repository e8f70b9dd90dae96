"""`user_storage_quota` (`images.user_storage_quota`): the bytes of image data one owner may hold,
with the real glanceclient and chunked uploads."""
import io
import os

import pytest
import requests
from glanceclient import Client, exc

from conftest import start_server

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def quota_server():
    with start_server(env={"GRANARY_IMAGES_USER_STORAGE_QUOTA": "3MB"}) as server:
        yield server.url


def test_uploads_past_the_quota_get_413_and_stay_queued(quota_server):
    glance = Client("2", endpoint=quota_server, token="t")
    first = glance.images.create(name="q1", disk_format="raw", container_format="bare")
    glance.images.upload(first["id"], io.BytesIO(os.urandom(2 * MIB)))
    assert glance.images.get(first["id"])["status"] == "active"

    second = glance.images.create(name="q2", disk_format="raw", container_format="bare")
    # Declared (Content-Length): refused before any byte is stored, with Glance's message.
    with pytest.raises(exc.HTTPOverLimit) as refused:
        glance.images.upload(second["id"], io.BytesIO(os.urandom(2 * MIB)), image_size=2 * MIB)
    assert "exceeds the quota" in str(refused.value) and f"{MIB} bytes remaining" in str(refused.value)
    # Chunked, no size: cut off where the bytes cross the line.
    chunks = (os.urandom(256 * 1024) for _ in range(8))
    response = requests.put(f"{quota_server}/v2/images/{second['id']}/file", data=chunks,
                            headers={"Content-Type": "application/octet-stream", "Accept": "application/json"})
    assert response.status_code == 413 and "user_storage_quota" in response.json()["message"], response.text
    image = glance.images.get(second["id"])
    assert image["status"] == "queued" and image["size"] is None

    # What is left fits; deleting an image gives its bytes back.
    glance.images.upload(second["id"], io.BytesIO(os.urandom(MIB)))
    assert glance.images.get(second["id"])["status"] == "active"
    third = glance.images.create(name="q3", disk_format="raw", container_format="bare")
    with pytest.raises(exc.HTTPOverLimit):
        glance.images.upload(third["id"], io.BytesIO(b"x"), image_size=1)
    glance.images.delete(first["id"])
    glance.images.upload(third["id"], io.BytesIO(os.urandom(2 * MIB)))
    assert glance.images.get(third["id"])["status"] == "active"


def test_a_bad_quota_setting_stops_the_server():
    with pytest.raises(RuntimeError, match="user_storage_quota"):
        start_server(env={"GRANARY_IMAGES_USER_STORAGE_QUOTA": "lots"})
