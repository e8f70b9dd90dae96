"""Where Granary answered differently from real Glare (API v1, openstack/glare at its last
commit): after activation only mutable fields change, patches run operation by operation, the
status and visibility answers, the create checks, and blob downloads' Content-MD5 and 416."""
import hashlib
import uuid

import pytest
import requests

from conftest import start_server

PATCH = {"Content-Type": "application/json-patch+json"}
SAMPLE = "sample_artifact"


@pytest.fixture(scope="module")
def artifacts():
    """A server of this module's own: its many sample artifacts stay out of the session's lists."""
    with start_server() as server:
        yield server.artifacts_url


def create(artifacts, **body):
    response = requests.post(f"{artifacts}/artifacts/{SAMPLE}", json={"name": f"fidelity-{uuid.uuid4()}", **body})
    assert response.status_code == 201, response.text
    return response.json()


def patch(artifacts, artifact, *operations):
    return requests.patch(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}", json=list(operations), headers=PATCH)


def op(kind, path, value=None):
    return {"op": kind, "path": path} if kind == "remove" else {"op": kind, "path": path, "value": value}


def active(artifacts, **body):
    artifact = create(artifacts, string_required="set", **body)
    response = patch(artifacts, artifact, op("replace", "/status", "active"))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("operation", [
    op("replace", "/int1", 7), op("replace", "/str1", "other"), op("replace", "/name", "renamed"), op("replace", "/version", "2.0"),
    op("replace", "/string_required", "changed"), op("add", "/dict_of_str/k", "v"), op("add", "/list_of_str/-", "x"),
    op("replace", "/metadata", {"a": "b"}), op("replace", "/bool1", True),
    op("replace", "/str1", "s"),  # the same value: still refused, as Glare checks the field, not the change
])
def test_after_activation_immutable_fields_are_refused(artifacts, operation):
    artifact = active(artifacts, str1="s", int1=1)
    response = patch(artifacts, artifact, operation)
    assert response.status_code == 403, response.text
    field = operation["path"].split("/")[1]
    assert response.json()["error"]["message"] == f"Forbidden to change field '{field}' after activation."
    shown = requests.get(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}").json()
    assert shown == artifact, "a refused patch changes nothing"


def test_after_activation_mutable_fields_change(artifacts):
    artifact = active(artifacts)
    response = patch(artifacts, artifact, op("replace", "/description", "d"), op("add", "/tags/-", "t"), op("replace", "/string_mutable", "m"))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["description"] == "d" and "t" in changed["tags"] and changed["string_mutable"] == "m"


def test_after_activation_blobs_of_immutable_fields_are_refused(artifacts):
    artifact = create(artifacts, string_required="set")
    url = f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}"
    octets = {"Content-Type": "application/octet-stream"}
    assert requests.put(f"{url}/dict_of_blobs/a", data=b"first", headers=octets).status_code == 200
    assert requests.put(f"{url}/blob", data=b"blob", headers=octets).status_code == 200
    assert patch(artifacts, artifact, op("replace", "/status", "active")).status_code == 200
    for key in ("a", "new"):  # a replaced key and a new one alike: the field is immutable
        refused = requests.put(f"{url}/dict_of_blobs/{key}", data=b"second", headers=octets)
        assert refused.status_code == 403 and refused.json()["error"]["message"] == "Forbidden to change field 'dict_of_blobs' after activation."
    assert requests.get(f"{url}/dict_of_blobs/a").content == b"first"
    assert requests.put(f"{url}/blob", data=b"replaced", headers=octets).status_code == 200  # blob is mutable
    assert requests.get(f"{url}/blob").content == b"replaced"


def test_operations_are_checked_in_order(artifacts):
    admin = active(artifacts)
    assert patch(artifacts, admin, op("replace", "/status", "deactivated")).status_code == 200
    # Reactivated first, then edited: allowed. Edited while deactivated: refused.
    assert patch(artifacts, admin, op("replace", "/description", "x"), op("replace", "/status", "active")).status_code == 403
    both = patch(artifacts, admin, op("replace", "/status", "active"), op("replace", "/description", "x"))
    assert both.status_code == 200 and both.json()["description"] == "x"
    drafted = create(artifacts)
    late = patch(artifacts, drafted, op("replace", "/status", "active"), op("replace", "/string_required", "s"))
    assert late.status_code == 403 and late.json()["error"]["message"] == "'string_required' field value must be set before activation."
    assert patch(artifacts, drafted, op("replace", "/string_required", "s"), op("replace", "/status", "active")).status_code == 200


@pytest.mark.parametrize("operation,status,message", [
    (op("replace", "/status", "deleting"), 400, "Unknown artifact status: deleting."),
    (op("replace", "/status", None), 400, "Unknown artifact status: None."),
    (op("replace", "/status", "deleted"), 403, "Cannot delete artifact with PATCH requests. Use special API to do this."),
    (op("replace", "/status", "deactivated"), 403, "Cannot deactivate artifact if it's not active."),
    (op("replace", "/visibility", "everyone"), 400, "Unknown artifact visibility: everyone."),
    (op("replace", "/visibility", "public"), 403, "Cannot change visibility to 'public' if artifact is not active."),
    (op("replace", "/id", "00000000-0000-4000-8000-000000000000"), 403,
     "Forbidden to specify system field id. It is not available for modifying by users."),
    (op("replace", "/owner", "me"), 403, "Forbidden to specify system field owner. It is not available for modifying by users."),
    (op("add", "/no_such_field", 1), 400, "Cannot add new field 'no_such_field' to artifact."),
    (op("remove", "/str1"), 400, "Cannot remove field 'str1' from artifact."),
    (op("replace", "/blob", {"url": "x"}), 400, "Cannot add blob with this request. Use special Blob API for that."),
])
def test_patch_answers_as_glare(artifacts, operation, status, message):
    response = patch(artifacts, create(artifacts), operation)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize("body,status,message", [
    ({"display_type_name": "x"}, 400, "display_type_name is not allowed in a request at creation."),
    ({"status": "active"}, 400, "status is not allowed in a request at creation."),
    ({"visibility": "public"}, 400, "visibility is not allowed in a request at creation."),
    ({"blob": {"url": "x"}}, 400, "Cannot add blob with this request. Use special Blob API for that."),
    ({"owner": "me"}, 403, "Forbidden to specify system field owner. It is not available for modifying by users."),
    ({"created_at": "2020-01-01T00:00:00Z"}, 403, "Forbidden to specify system field created_at. It is not available for modifying by users."),
    ({"no_such_field": 1}, 400, "Cannot add new field 'no_such_field' to artifact."),
    ({"name": ""}, 400, "Name must be specified at creation."),
])
def test_create_answers_as_glare(artifacts, body, status, message):
    response = requests.post(f"{artifacts}/artifacts/{SAMPLE}", json={"name": "c", **body})
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message


def test_blob_downloads_carry_the_hex_md5_and_416_the_size(artifacts):
    artifact = create(artifacts)
    url = f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}/blob"
    data = b"glare sends the md5 in hex" * 100
    assert requests.put(url, data=data, headers={"Content-Type": "application/octet-stream"}).status_code == 200
    download = requests.get(url)
    assert download.content == data and download.headers["Content-MD5"] == hashlib.md5(data).hexdigest()
    unsatisfiable = requests.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["Content-Range"] == f"bytes */{len(data)}"
