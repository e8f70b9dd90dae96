"""Where Granary answered differently from real Glare (API v1, openstack/glare at its last
commit): after activation only mutable fields change, patches run operation by operation, the
status and visibility answers, the create checks, and blob downloads' Content-MD5 and 416."""
import hashlib
import uuid

import pytest
import requests

from glare_requests import PATCH, SAMPLE, create, op, patch
from conftest import start_server


@pytest.fixture(scope="module")
def artifacts():
    """A server of this module's own: its many sample artifacts stay out of the session's lists."""
    with start_server() as server:
        yield server.artifacts_url


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


def test_all_is_a_read_only_meta_type(artifacts):
    schemas = requests.get(f"{artifacts}/schemas").json()["schemas"]
    assert "all" in schemas and schemas["all"]["properties"]["type_name"]["filter_ops"] == ["like", "eq", "neq", "in"]
    own = requests.get(f"{artifacts}/schemas/all").json()["schemas"]["all"]
    assert "type_name" in own["properties"] and "int1" not in own["properties"]
    sample = create(artifacts, int1=5)
    heat = requests.post(f"{artifacts}/artifacts/heat_templates", json={"name": f"all-{uuid.uuid4()}"}).json()
    # Every type's artifacts, with type_name, and only the base fields.
    listed = {a["id"]: a for a in requests.get(f"{artifacts}/artifacts/all?limit=1000").json()["artifacts"]}
    assert listed[sample["id"]]["type_name"] == SAMPLE and listed[heat["id"]]["type_name"] == "heat_templates"
    assert "int1" not in listed[sample["id"]] and "blob" not in listed[sample["id"]]
    shown = requests.get(f"{artifacts}/artifacts/all/{sample['id']}").json()
    assert shown["type_name"] == SAMPLE and "int1" not in shown
    # type_name as a filter (eq, in, like) and a sort key.
    for query in ("type_name=heat_templates", "type_name=in:heat_templates,images", "type_name=like:heat%"):
        found = requests.get(f"{artifacts}/artifacts/all?limit=1000&{query}")
        assert found.status_code == 200, (query, found.text)
        assert {a["type_name"] for a in found.json()["artifacts"]} == {"heat_templates"}, query
    ordered = requests.get(f"{artifacts}/artifacts/all?limit=1000&sort=type_name:asc").json()["artifacts"]
    assert [a["type_name"] for a in ordered] == sorted(a["type_name"] for a in ordered)
    assert requests.get(f"{artifacts}/artifacts/{SAMPLE}?type_name=x").status_code == 400  # a concrete type has no type_name
    # Writes through all are refused; reads of blobs through it are not blobs.
    created = requests.post(f"{artifacts}/artifacts/all", json={"name": "nope"})
    assert created.status_code == 403 and created.json()["error"]["message"] == "This type is read only."
    url = f"{artifacts}/artifacts/all/{sample['id']}"
    changed = requests.patch(url, json=[op("replace", "/description", "x")], headers=PATCH)
    assert changed.status_code == 403 and changed.json()["error"]["message"] == "This type is read only."
    assert requests.patch(url, json=[op("replace", "/description", sample["description"])], headers=PATCH).status_code == 200
    deleted = requests.delete(url)
    assert deleted.status_code == 403 and deleted.json()["error"]["message"] == "This type is read only."
    blob = requests.put(f"{url}/blob", data=b"x", headers={"Content-Type": "application/octet-stream"})
    assert blob.status_code == 400 and blob.json()["error"]["message"] == "blob is not a blob"
    assert requests.get(f"{artifacts}/artifacts/{SAMPLE}/{sample['id']}").json()["description"] == sample["description"]


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/artifacts/sample_artifact/{id}", "GET, PATCH, DELETE"), ("PUT", "/artifacts/sample_artifact", "GET, POST"),
    ("POST", "/artifacts/sample_artifact/{id}/blob", "GET, PUT, DELETE"), ("DELETE", "/schemas", "GET"),
    ("POST", "/schemas/sample_artifact", "GET"), ("DELETE", "/quotas", "PUT, GET"), ("POST", "/project-quotas", "GET"),
])
def test_unsupported_methods_answer_405_with_allow(artifacts, method, path, allow):
    artifact = create(artifacts)
    response = requests.request(method, artifacts + path.format(id=artifact["id"]))
    assert response.status_code == 405, response.text
    assert set(response.headers["Allow"].split(", ")) == set(allow.split(", "))


@pytest.mark.parametrize("method,path", [
    ("GET", "/artifacts/sample_artifact"), ("GET", "/artifacts/sample_artifact/{id}"), ("DELETE", "/artifacts/sample_artifact/{id}"),
    ("GET", "/quotas"), ("GET", "/schemas"),
])
def test_a_body_where_none_is_expected_is_400(artifacts, method, path):
    artifact = create(artifacts)
    response = requests.request(method, artifacts + path.format(id=artifact["id"]), data=b'{"x": 1}')
    assert response.status_code == 400, response.text
    assert "A body is not expected with this request." in response.text
    assert requests.get(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}").status_code == 200  # nothing was deleted


@pytest.mark.parametrize("headers,version", [
    ({}, "1.0"), ({"OpenStack-API-Version": "artifact 1.1"}, "1.1"), ({"OpenStack-API-Version": "artifact latest"}, "1.1"),
    ({"OpenStack-API-Version": "compute 2.1, artifact 1.0"}, "1.0"), ({"Accept": "application/vnd.openstack.artifacts-1.1"}, "1.1"),
])
def test_microversions_are_negotiated_and_echoed(artifacts, headers, version):
    response = requests.get(f"{artifacts}/artifacts/{SAMPLE}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["OpenStack-API-Version"] == f"artifact {version}"
    assert "openstack-api-version" in response.headers["Vary"]


@pytest.mark.parametrize("value,status", [("2.0", 406), ("1.2", 406), ("0.9", 400), ("1.01", 400), ("INVALID", 400), ("2", 400)])
def test_versions_out_of_range_or_malformed_are_refused(artifacts, value, status):
    response = requests.get(f"{artifacts}/artifacts/{SAMPLE}", headers={"OpenStack-API-Version": f"artifact {value}"})
    assert response.status_code == status, response.text
    body = response.json()
    if status == 406:
        assert body["min_version"] == "1.0" and body["max_version"] == "1.1"
        assert body["error"]["type"] == "InvalidGlobalAPIVersion"
        assert body["error"]["message"] == f"Version {value} is not supported by the API. Minimum is 1.0 and maximum is 1.1."
    else:
        assert body["error"]["message"] == f"API version string {value} is not valid. Cannot determine API version."


def test_quotas_and_blob_deletion_answer_at_1_0_as_in_glare(artifacts):
    assert requests.get(f"{artifacts}/quotas", headers={"OpenStack-API-Version": "artifact 1.0"}).status_code == 200
    artifact = create(artifacts)
    url = f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}/blob"
    assert requests.put(url, data=b"x", headers={"Content-Type": "application/octet-stream"}).status_code == 200
    assert requests.delete(url, headers={"OpenStack-API-Version": "artifact 1.0"}).status_code in (200, 204)


def test_the_versions_document_answers_any_method(artifacts):
    for method in ("GET", "POST", "DELETE"):
        response = requests.request(method, f"{artifacts}/versions")
        assert response.status_code == 300
        assert [v["version"] for v in response.json()["versions"]] == ["1.0", "1.1"]
        assert response.json()["versions"][0]["links"][0]["rel"] == "describedby"


@pytest.mark.parametrize("query", [
    "int1=gt:abc", "float1=lt:abc", "int1=in:1,x", "bool1=gt:true", "bool1=neq:true", "int1=like:1", "str1=gt:a", "str1=bla:x",
    "name=bla:name1", "created_at=2000-01-01T00:00:00", "description=x", "blob=x", "small_blob=x", "dict_of_blobs.k=x", "foo=1",
    "visibility=blabla", "status=foo", "name=", "sort=nope", "sort=bool1", "sort=name:up", "version=gte:one", "id=abc",
])
def test_filters_and_sorts_refused_as_glare_refuses_them(artifacts, query):
    response = requests.get(f"{artifacts}/artifacts/{SAMPLE}?{query}")
    assert response.status_code == 400, (query, response.text)


def test_filters_taken_as_declared(artifacts):
    a = create(artifacts, str1="alpha", int1=5, bool1=True)
    b = create(artifacts, str1="beta", int1=7, bool1=False)

    def ids(query):
        response = requests.get(f"{artifacts}/artifacts/{SAMPLE}?limit=1000&{query}")
        assert response.status_code == 200, (query, response.text)
        return {x["id"] for x in response.json()["artifacts"]} & {a["id"], b["id"]}

    assert ids("str1=like:alp%") == {a["id"]}  # like, as sample_artifact's str1 declares
    assert ids("int1=gt:6") == {b["id"]} and ids("int1=in:5,7") == {a["id"], b["id"]}
    assert ids("bool1=True") == {a["id"]} and ids("bool1=false") == {b["id"]}  # oslo's bool_from_string
    assert ids("created_at=gt:2000-01-01T00:00:00Z") == {a["id"], b["id"]}
