"""Interoperable import (stage + glance-direct; web-download is in test_web_download.py) with the real clients, image tasks, /info, URL
versions, 405 with Allow and 400 for unexpected bodies; stale stages and a crash mid-stage."""
import hashlib
import io
import os
import subprocess
import threading
import time

import pytest
import requests
from glanceclient import exc

from conftest import granary_binary, sdk_wait_active, start_server


def wait_status(glance, image_id, status, timeout=10):
    deadline = time.time() + timeout
    while True:
        image = glance.images.get(image_id)
        if image["status"] == status or time.time() > deadline:
            return image
        time.sleep(0.05)


def test_glanceclient_stage_and_import(glance, server):
    data = os.urandom(3 * 1024 * 1024 + 5)
    image = glance.images.create(name="imp", disk_format="raw", container_format="bare")
    glance.images.stage(image["id"], io.BytesIO(data))
    staged = glance.images.get(image["id"])
    assert staged["status"] == "uploading"
    # Staged data is not image data yet: no download, no second stage, no direct upload.
    assert requests.get(f"{server}/v2/images/{image['id']}/file").status_code == 204
    with pytest.raises(exc.HTTPConflict):
        glance.images.stage(image["id"], io.BytesIO(b"again"))
    with pytest.raises(exc.HTTPConflict):
        glance.images.upload(image["id"], io.BytesIO(b"again"))

    response = requests.post(f"{server}/v2/images/{image['id']}/import", json={"method": {"name": "glance-direct"}})
    assert response.status_code == 202, response.text
    request_id = response.headers["x-openstack-request-id"]
    image = wait_status(glance, image["id"], "active")
    assert image["status"] == "active"
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert image.get("os_glance_failed_import") == ""
    assert "os_glance_import_task" not in image
    assert b"".join(glance.images.data(image["id"])) == data

    # The image's tasks (v2.12), as tempest checks them after an import.
    # (glanceclient returns the body, its response's request id attached.)
    tasks = glance.images.get_associated_image_tasks(image["id"])
    assert len(tasks["tasks"]) == 1
    task = tasks["tasks"][0]
    assert task["status"] == "success"
    assert task["request_id"] == request_id
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert task["image_id"] == image["id"] and task["type"] == "api_image_import"
    # Importing again is a conflict: the image is active.
    assert requests.post(f"{server}/v2/images/{image['id']}/import", json={"method": {"name": "glance-direct"}}).status_code == 409


def test_glance_cli_create_via_import(server, tmp_path):
    data = os.urandom(1024 * 1024)
    path = tmp_path / "disk.raw"
    path.write_bytes(data)
    out = subprocess.run(
        ["glance", "--os-image-url", server, "--os-auth-token", "t", "image-create-via-import", "--name", "cli-import",
         "--disk-format", "raw", "--container-format", "bare", "--import-method", "glance-direct"],
        stdin=path.open("rb"), capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    images = requests.get(f"{server}/v2/images", params={"name": "cli-import"}).json()["images"]
    assert len(images) == 1
    deadline = time.time() + 10
    image = images[0]
    while image["status"] != "active" and time.time() < deadline:
        time.sleep(0.05)
        image = requests.get(f"{server}/v2/images/{image['id']}").json()
    assert image["status"] == "active"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()


def test_sdk_create_image_with_import(sdk):
    data = os.urandom(2 * 1024 * 1024)
    image = sdk.image.create_image(name="sdk-import", disk_format="raw", container_format="bare", data=data, use_import=True)
    image = sdk_wait_active(sdk, image.id)
    assert image.status == "active"
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    assert sdk.image.download_image(image).content == data
    sdk.image.delete_image(image)


def test_import_errors_and_info(server):
    info = requests.get(f"{server}/v2/info/import").json()
    assert info == {"import-methods": {"description": "Import methods available.", "type": "array", "value": ["glance-direct", "web-download"]}}
    assert requests.get(f"{server}/v2/info/stores").status_code == 404
    assert requests.get(f"{server}/v2/info/usage").json() == {"usage": {}}
    created = requests.post(f"{server}/v2/images", json={"name": "e", "disk_format": "raw", "container_format": "bare"})
    assert created.headers["OpenStack-image-import-methods"] == "glance-direct,web-download"
    image_id = created.json()["id"]
    url = f"{server}/v2/images/{image_id}"
    assert requests.post(url + "/import", json={"method": {"name": "glance-direct"}}).status_code == 409  # nothing staged
    assert requests.post(url + "/import", json={"method": {"name": "copy-image"}}).status_code == 400  # not enabled
    assert requests.post(url + "/import", json={}).status_code == 400
    assert requests.post(url + "/import", data=b"{not json").status_code == 400
    assert requests.put(url + "/stage", data=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert requests.put(url + "/stage", data=b"xyz", headers={"Content-Type": "application/octet-stream", "x-openstack-image-size": "9"}).status_code == 400
    assert requests.get(url).json()["status"] == "queued"
    assert requests.get(url + "/tasks").json() == {"tasks": []}
    missing = "00000000-0000-4000-8000-000000000000"
    assert requests.get(f"{server}/v2/images/{missing}/tasks").status_code == 404
    # No formats: staging is refused before any byte is stored.
    bare = requests.post(f"{server}/v2/images", json={"name": "noformat"}).json()["id"]
    assert requests.put(f"{server}/v2/images/{bare}/stage", data=b"abc", headers={"Content-Type": "application/octet-stream"}).status_code == 400


def test_url_versions_405_and_unexpected_bodies(server):
    versions = [v["id"] for v in requests.get(f"{server}/versions").json()["versions"]]
    assert "v2.6" in versions and "v2.12" in versions and "v2.17" not in versions
    assert requests.get(f"{server}/v2.6/images").status_code == 200
    assert requests.get(f"{server}/v2.12/schemas/image").status_code == 200
    assert requests.get(f"{server}/v2.17/images").status_code == 300  # not served: the versions document, as Glance
    image_id = requests.post(f"{server}/v2.1/images", json={"name": "v"}).json()["id"]
    response = requests.post(f"{server}/v2/images/{image_id}")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "DELETE", "PATCH"}
    assert requests.put(f"{server}/v2/images").headers["Allow"] == "POST, GET"
    assert requests.delete(f"{server}/v2/images/{image_id}/file").status_code == 405
    # A body where none is expected: 400, and nothing changes.
    assert requests.get(f"{server}/v2/images", data=b'{"x": 1}').status_code == 400
    assert requests.delete(f"{server}/v2/images/{image_id}", data=b"body").status_code == 400
    assert requests.get(f"{server}/v2/images/{image_id}").status_code == 200
    assert requests.post(f"{server}/v2/images/{image_id}/actions/deactivate", data=b"x").status_code == 400
    assert requests.delete(f"{server}/v2/images/{image_id}").status_code == 204


def test_stale_stage_is_released_and_a_crash_mid_stage_requeues():
    server = start_server(env={"GRANARY_IMAGES_STAGE_TTL": "2"})
    try:
        url = server.url
        image_id = requests.post(f"{url}/v2/images", json={"name": "s", "disk_format": "raw", "container_format": "bare"}).json()["id"]
        payload = os.urandom(4 << 20)
        assert requests.put(f"{url}/v2/images/{image_id}/stage", data=payload,
                            headers={"Content-Type": "application/octet-stream"}).status_code == 204
        assert requests.get(f"{url}/v2/images/{image_id}").json()["status"] == "uploading"
        deadline = time.time() + 15
        while requests.get(f"{url}/v2/images/{image_id}").json()["status"] != "queued" and time.time() < deadline:
            time.sleep(0.2)
        image = requests.get(f"{url}/v2/images/{image_id}").json()
        assert image["status"] == "queued" and image["size"] is None
        stats = requests.get(f"{url}/admin/stats").json()
        assert stats["blobs"] == 0, stats

        # A stage cut off by SIGKILL: after restart the image is queued, nothing referenced.
        crashed = requests.post(f"{url}/v2/images", json={"name": "c", "disk_format": "raw", "container_format": "bare"}).json()["id"]
        started = threading.Event()

        def slow_body():
            for _ in range(400):
                started.set()
                yield os.urandom(1 << 16)
                time.sleep(0.01)

        def stage():
            try:
                requests.put(f"{url}/v2/images/{crashed}/stage", data=slow_body(),
                             headers={"Content-Type": "application/octet-stream"}, timeout=30)
            except requests.RequestException:
                pass

        thread = threading.Thread(target=stage)
        thread.start()
        started.wait(5)
        deadline = time.time() + 5
        while requests.get(f"{url}/v2/images/{crashed}").json()["status"] != "uploading" and time.time() < deadline:
            time.sleep(0.02)
        assert requests.get(f"{url}/v2/images/{crashed}").json()["status"] == "uploading"
        server.kill()
        thread.join(timeout=30)
        server = start_server(data=server.data)
        image = requests.get(f"{server.url}/v2/images/{crashed}").json()
        assert image["status"] == "queued", image
        fsck = subprocess.run([*server.command("fsck"), "--json"],
                              capture_output=True, text=True, timeout=60)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        server.stop()


def test_a_stalled_upload_is_cut_after_client_socket_timeout():
    import socket
    with start_server(env={"GRANARY_CLIENT_SOCKET_TIMEOUT": "1"}) as server:
        url = server.url
        image_id = requests.post(f"{url}/v2/images", json={"name": "stall", "disk_format": "raw", "container_format": "bare"}).json()["id"]
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall((f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                          "Content-Length: 1000000\r\n\r\n").encode() + b"x" * 70000)
            deadline = time.time() + 5
            while requests.get(f"{url}/v2/images/{image_id}").json()["status"] != "saving" and time.time() < deadline:
                time.sleep(0.02)
            assert requests.get(f"{url}/v2/images/{image_id}").json()["status"] == "saving"
            # The client stops sending; the server closes the connection after a second idle.
            conn.settimeout(10)
            started = time.time()
            assert conn.recv(1) == b""
            assert time.time() - started < 8
        deadline = time.time() + 5
        while requests.get(f"{url}/v2/images/{image_id}").json()["status"] != "queued" and time.time() < deadline:
            time.sleep(0.05)
        assert requests.get(f"{url}/v2/images/{image_id}").json()["status"] == "queued"
        # And the image takes a whole upload afterwards.
        payload = os.urandom(100000)
        assert requests.put(f"{url}/v2/images/{image_id}/file", data=payload,
                            headers={"Content-Type": "application/octet-stream"}).status_code == 204
        assert requests.get(f"{url}/v2/images/{image_id}").json()["os_hash_value"] == hashlib.sha512(payload).hexdigest()
