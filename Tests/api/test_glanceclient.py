"""python-glanceclient (library and CLI) against granary, checked against Glance's behaviour."""
import hashlib
import io
import os
import subprocess
import sys
import uuid

import pytest
import requests
from glanceclient import exc


def random_bytes(n):
    return os.urandom(n)


def test_create_show_defaults(glance, server):
    image = glance.images.create(name="cirros", disk_format="raw", container_format="bare", os_distro="cirros")
    assert image["status"] == "queued"
    assert image["visibility"] == "shared"
    assert image["size"] is None and image["checksum"] is None
    assert image["os_distro"] == "cirros"
    shown = glance.images.get(image["id"])
    assert shown["name"] == "cirros"
    raw = requests.get(f"{server}/v2/images/{image['id']}").json()
    assert raw["self"] == "/v2/images/" + image["id"]
    assert raw["file"] == raw["self"] + "/file"
    assert raw["schema"] == "/v2/schemas/image"
    assert raw["owner"] is None  # noauth: admin with no project, as in Glance


def test_upload_download_with_checksums(glance):
    data = random_bytes(5 * 1024 * 1024 + 17)
    image = glance.images.create(name="data", disk_format="raw", container_format="bare")
    glance.images.upload(image["id"], io.BytesIO(data))
    image = glance.images.get(image["id"])
    assert image["status"] == "active"
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    # glanceclient verifies os_hash_value while downloading.
    downloaded = b"".join(glance.images.data(image["id"]))
    assert downloaded == data
    # A second upload to an active image is refused.
    with pytest.raises(exc.HTTPConflict):
        glance.images.upload(image["id"], io.BytesIO(b"again"))


def test_ranges(glance, server):
    data = random_bytes(1_000_000)
    image = glance.images.create(disk_format="raw", container_format="bare")
    glance.images.upload(image["id"], io.BytesIO(data))
    url = f"{server}/v2/images/{image['id']}/file"
    r = requests.get(url, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    r = requests.get(url, headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    assert requests.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    assert requests.get(url, headers={"Range": "bytes=0-1,4-5"}).status_code == 400


def test_chunked_upload_without_length(server, glance):
    image = glance.images.create(disk_format="raw", container_format="bare")
    parts = [random_bytes(300_000) for _ in range(4)]
    r = requests.put(f"{server}/v2/images/{image['id']}/file", data=iter(parts),
                     headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204
    assert glance.images.get(image["id"])["size"] == sum(map(len, parts))


def test_update_properties(glance):
    image = glance.images.create(name="before", disk_format="qcow2", container_format="bare")
    updated = glance.images.update(image["id"], name="after", os_version="12", min_ram=512)
    assert updated["name"] == "after" and updated["os_version"] == "12" and updated["min_ram"] == 512
    updated = glance.images.update(image["id"], remove_props=["os_version"])
    assert "os_version" not in updated


def test_tags(glance):
    image = glance.images.create(name="tagged")
    glance.image_tags.update(image["id"], "alpha")
    glance.image_tags.update(image["id"], "beta")
    assert sorted(glance.images.get(image["id"])["tags"]) == ["alpha", "beta"]
    glance.image_tags.delete(image["id"], "alpha")
    assert glance.images.get(image["id"])["tags"] == ["beta"]
    with pytest.raises(exc.HTTPNotFound):
        glance.image_tags.delete(image["id"], "missing")


def test_deactivate_reactivate(glance):
    image = glance.images.create(disk_format="raw", container_format="bare")
    with pytest.raises(exc.HTTPForbidden):
        glance.images.deactivate(image["id"])  # not active yet
    glance.images.upload(image["id"], io.BytesIO(b"x" * 1000))
    glance.images.deactivate(image["id"])
    assert glance.images.get(image["id"])["status"] == "deactivated"
    glance.images.reactivate(image["id"])
    assert glance.images.get(image["id"])["status"] == "active"


def test_protected_delete(glance):
    image = glance.images.create(name="keep", protected=True)
    with pytest.raises(exc.HTTPForbidden):
        glance.images.delete(image["id"])
    glance.images.update(image["id"], protected=False)
    glance.images.delete(image["id"])
    with pytest.raises(exc.HTTPNotFound):
        glance.images.get(image["id"])


def test_list_and_paginate(glance):
    marker = uuid.uuid4().hex
    ids = {glance.images.create(name=f"page-{marker}-{i}")["id"] for i in range(7)}
    listed = [i["id"] for i in glance.images.list(page_size=3)]
    assert ids <= set(listed)
    assert len(listed) == len(set(listed))


def test_errors(glance, server):
    with pytest.raises(exc.HTTPNotFound):
        glance.images.get(str(uuid.uuid4()))
    r = requests.post(f"{server}/v2/images", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = requests.post(f"{server}/v2/images", json={"status": "active"})
    assert r.status_code == 403
    image = glance.images.create(name="p")
    r = requests.patch(f"{server}/v2/images/{image['id']}", json=[], headers={"Content-Type": "application/json"})
    assert r.status_code == 415 and "Accept-Patch" in r.headers
    r = requests.patch(f"{server}/v2/images/{image['id']}", data='[{"op":"replace","path":"/status","value":"active"}]',
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 403
    r = requests.patch(f"{server}/v2/images/{image['id']}", data='[{"op":"remove","path":"/name"}]',
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 403
    r = requests.patch(f"{server}/v2/images/{image['id']}", data='[{"op":"replace","path":"/nope","value":"x"}]',
                       headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 409
    # Stored data intact after the errors.
    assert glance.images.get(image["id"])["name"] == "p"


def test_cli_roundtrip(server, tmp_path):
    # The `glance` command of the virtualenv running these tests, whatever PATH says.
    glance_cli = os.path.join(os.path.dirname(sys.executable), "glance")
    env = dict(os.environ, OS_IMAGE_URL=server, OS_AUTH_TOKEN="x")
    source = tmp_path / "disk.img"
    source.write_bytes(random_bytes(2_000_000))
    out = subprocess.run([glance_cli, "image-create", "--name", "cli", "--disk-format", "raw", "--container-format", "bare",
                          "--file", str(source)], env=env, capture_output=True, text=True, check=True).stdout
    image_id = next(line.split("|")[2].strip() for line in out.splitlines() if line.startswith("| id "))
    target = tmp_path / "back.img"
    subprocess.run([glance_cli, "image-download", "--file", str(target), image_id], env=env, check=True)
    assert target.read_bytes() == source.read_bytes()


def test_expect_100_continue_is_answered_before_the_body(server, glance):
    import socket
    from urllib.parse import urlparse
    image = glance.images.create(disk_format="raw", container_format="bare")
    host = urlparse(server)
    body = b"z" * 1000
    with socket.create_connection((host.hostname, host.port), timeout=5) as s:
        s.sendall((f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: {host.netloc}\r\n"
                   f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n"
                   "Expect: 100-continue\r\n\r\n").encode())
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100")  # before any body byte was sent
        s.sendall(body)
        final = b""
        while b"\r\n\r\n" not in final:
            final += s.recv(4096)
        assert b" 204 " in final.split(b"\r\n")[0] + b" "
    assert glance.images.get(image["id"])["size"] == len(body)
