"""Where Granary answered differently from real Glance (API v2): the download's Content-MD5,
unknown version paths, the image schema's constraints on create and patch, and patches of
`/locations` while locations are not exposed."""
import hashlib
import os
import uuid

import pytest
import requests

JSON = {"Content-Type": "application/json"}
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def create(server, **body):
    response = requests.post(f"{server}/v2/images", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_downloads_carry_the_hex_md5(server):
    data = os.urandom(300_000)
    image = create(server, name="md5", disk_format="raw", container_format="bare")
    assert requests.put(f"{server}/v2/images/{image}/file", data=data, headers={"Content-Type": "application/octet-stream"}).status_code == 204
    download = requests.get(f"{server}/v2/images/{image}/file")
    assert download.content == data
    assert download.headers["Content-MD5"] == hashlib.md5(data).hexdigest()  # hex, as Glance sends the checksum
    unsatisfiable = requests.get(f"{server}/v2/images/{image}/file", headers={"Range": f"bytes={len(data)}-"})
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["Content-Range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("path", ["/v1/images", "/v3/images", "/v2.99/images", "/v1", "/images", "/v10/images/x/file"])
def test_unknown_version_paths_answer_the_versions_document(server, path):
    for method in (requests.get, requests.post):
        response = method(f"{server}{path}")
        assert response.status_code == 300, (path, response.status_code, response.text)
        versions = response.json()["versions"]
        assert {"v2.0", "v2.1"} <= {v["id"] for v in versions}


def test_served_versions_and_unknown_resources_under_them(server):
    assert requests.get(f"{server}/v2/images").status_code == 200
    assert requests.get(f"{server}/v2.1/images").status_code == 200
    assert requests.get(f"{server}/v2/no-such-thing").status_code == 404
    assert requests.get(f"{server}/versions").status_code == 200


@pytest.mark.parametrize("field,value", [
    ("kernel_id", "not-a-uuid"), ("ramdisk_id", "1234"), ("kernel_id", 5),
    ("cinder_encryption_key_deletion_policy", "sometimes"), ("name", "x" * 256), ("container_format", "box"),
    ("tags", ["x" * 256]), ("visibility", "everyone"), ("protected", "yes"), ("os_distro", 7), ("instance_uuid", ["a"]),
])
def test_the_served_schema_is_enforced_on_create_and_patch(server, field, value):
    schema = requests.get(f"{server}/v2/schemas/image").json()["properties"]
    assert field in schema or field == "os_distro"
    assert requests.post(f"{server}/v2/images", json={"name": "s", field: value}).status_code == 400
    image = create(server, name="s")
    op = "replace" if field in ("name", "container_format", "tags", "visibility", "protected") else "add"
    response = requests.patch(f"{server}/v2/images/{image}", json=[{"op": op, "path": f"/{field}", "value": value}], headers=PATCH)
    assert response.status_code == 400, response.text
    assert field not in requests.get(f"{server}/v2/images/{image}").json() or field in ("name", "container_format", "tags", "visibility",
                                                                                          "protected")


def test_schema_values_that_fit_are_taken(server):
    kernel = str(uuid.uuid4())
    image = create(server, name="k", kernel_id=kernel, cinder_encryption_key_deletion_policy="do_not_delete")
    shown = requests.get(f"{server}/v2/images/{image}").json()
    assert shown["kernel_id"] == kernel and shown["cinder_encryption_key_deletion_policy"] == "do_not_delete"
    ramdisk = str(uuid.uuid4()).upper()
    response = requests.patch(f"{server}/v2/images/{image}", json=[{"op": "add", "path": "/ramdisk_id", "value": ramdisk}], headers=PATCH)
    assert response.status_code == 200 and response.json()["ramdisk_id"] == ramdisk


@pytest.mark.parametrize("op,path", [("add", "/locations/-"), ("add", "/locations/0"), ("replace", "/locations"), ("remove", "/locations/0")])
def test_locations_are_refused_while_not_exposed(server, op, path):
    image = create(server, name="loc")
    patch = {"op": op, "path": path}
    if op != "remove":
        patch["value"] = [{"url": "http://example.com/x", "metadata": {}}] if path == "/locations" else {"url": "http://example.com/x", "metadata": {}}
    response = requests.patch(f"{server}/v2/images/{image}", json=[patch], headers=PATCH)
    assert response.status_code == 403, response.text
    verb = {"add": "add", "replace": "update", "remove": "remove"}[op]
    assert f"not allowed to {verb} locations if locations are invisible" in response.text
