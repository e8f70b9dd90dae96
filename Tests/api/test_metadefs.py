"""Metadata definitions (/v2/metadefs) through python-glanceclient, which builds its models from
our /v2/schemas/metadefs/* and validates against them; admin-only changes in headers mode; the
`granary metadefs load` command; the legacy tasks API."""
import json
import pathlib
import subprocess

import pytest
import requests
from glanceclient import exc

from conftest import granary_binary, identity, start_server


def test_namespace_lifecycle_with_glanceclient(glance):
    ns = glance.metadefs_namespace.create(namespace="Test::Granary", display_name="Granary", description="test",
                                          visibility="public", protected=True)
    assert ns["namespace"] == "Test::Granary" and ns["protected"] is True
    assert "Test::Granary" in [n["namespace"] for n in glance.metadefs_namespace.list()]

    resource_types = [r["name"] for r in glance.metadefs_resource_type.list()]
    assert "OS::Glance::Image" in resource_types
    glance.metadefs_resource_type.associate("Test::Granary", name="OS::Glance::Image", prefix="hw_")
    assert [a["name"] for a in glance.metadefs_resource_type.get("Test::Granary")] == ["OS::Glance::Image"]
    assert [n["namespace"] for n in glance.metadefs_namespace.list(filters={"resource_types": ["OS::Glance::Image"]})] == ["Test::Granary"]

    prop = glance.metadefs_property.create("Test::Granary", name="hw_cpu", title="CPU", type="string", enum=["a", "b"])
    assert prop["title"] == "CPU"
    assert glance.metadefs_property.get("Test::Granary", "hw_cpu")["enum"] == ["a", "b"]
    glance.metadefs_property.update("Test::Granary", "hw_cpu", name="hw_cpu", title="Processor", type="string")
    assert glance.metadefs_property.get("Test::Granary", "hw_cpu")["title"] == "Processor"

    obj = glance.metadefs_object.create("Test::Granary", name="CPU Limits", properties={"quota": {"title": "Quota", "type": "integer"}})
    assert obj["name"] == "CPU Limits"
    assert [o["name"] for o in glance.metadefs_object.list("Test::Granary")] == ["CPU Limits"]
    with pytest.raises(exc.HTTPConflict):
        glance.metadefs_object.create("Test::Granary", name="CPU Limits")

    list(glance.metadefs_tag.create_multiple("Test::Granary", tags=["t1", "t2"]))  # a generator
    glance.metadefs_tag.create("Test::Granary", "t3")
    assert sorted(t["name"] for t in glance.metadefs_tag.list("Test::Granary")) == ["t1", "t2", "t3"]
    glance.metadefs_tag.update("Test::Granary", "t3", name="t4")
    assert glance.metadefs_tag.get("Test::Granary", "t4")["name"] == "t4"

    full = glance.metadefs_namespace.get("Test::Granary")
    assert "hw_cpu" in full["properties"] and len(full["objects"]) == 1 and len(full["tags"]) == 3

    # Protected: no delete until unprotected.
    with pytest.raises(exc.HTTPForbidden):
        glance.metadefs_namespace.delete("Test::Granary")
    glance.metadefs_namespace.update("Test::Granary", protected=False)
    glance.metadefs_namespace.delete("Test::Granary")
    with pytest.raises(exc.HTTPNotFound):
        glance.metadefs_namespace.get("Test::Granary")


def test_namespace_list_pages_sorts_and_filters(server, glance):
    url = f"{server}/v2/metadefs/namespaces"
    names = [f"Page::{i}" for i in range(5)]
    for i, name in enumerate(names):
        body = {"namespace": name, "display_name": f"d{4 - i}", "visibility": "public" if i % 2 else "private"}
        assert requests.post(url, json=body).status_code == 201
    # glanceclient follows the next links page by page.
    listed = [n["namespace"] for n in glance.metadefs_namespace.list(page_size=2, sort_key="namespace", sort_dir="asc")]
    assert [n for n in listed if n.startswith("Page::")] == names
    first = requests.get(url, params={"limit": 2, "sort_key": "display_name", "sort_dir": "asc"}).json()
    assert [n["namespace"] for n in first["namespaces"]] == ["Page::4", "Page::3"]
    assert first["first"] == "/v2/metadefs/namespaces?limit=2&sort_key=display_name&sort_dir=asc"
    assert first["next"] == "/v2/metadefs/namespaces?limit=2&sort_key=display_name&sort_dir=asc&marker=Page::3"
    second = requests.get(server + first["next"]).json()
    assert [n["namespace"] for n in second["namespaces"]] == ["Page::2", "Page::1"]
    last = requests.get(url, params={"limit": 2, "sort_key": "display_name", "sort_dir": "asc", "marker": "Page::1"}).json()
    assert [n["namespace"] for n in last["namespaces"]] == ["Page::0"] and "next" not in last
    # Newest first by default; filters narrow before the page is cut.
    newest = requests.get(url, params={"limit": 1}).json()["namespaces"]
    assert newest[0]["namespace"] == "Page::4"
    public = requests.get(url, params={"visibility": "public", "sort_key": "namespace", "sort_dir": "asc"}).json()
    assert [n["namespace"] for n in public["namespaces"] if n["namespace"].startswith("Page::")] == ["Page::1", "Page::3"]
    for bad in ({"limit": "x"}, {"limit": -1}, {"sort_dir": "up"}, {"sort_key": "color"}, {"visibility": "shared"}):
        response = requests.get(url, params=bad, headers={"Accept": "application/json"})
        assert response.status_code == 400, bad
    assert requests.get(url, params={"marker": "Page::missing"}).status_code == 404
    for name in names:
        assert requests.delete(f"{url}/{name}").status_code == 204


def test_metadefs_bad_input_and_policy(server, headers_server):
    url = f"{server}/v2/metadefs/namespaces"
    assert requests.post(url, json={"display_name": "no namespace"}).status_code == 400
    assert requests.post(url, json={"namespace": "bad-vis", "visibility": "shared"}).status_code == 400
    assert requests.post(url, json={"namespace": "dup"}).status_code == 201
    assert requests.post(url, json={"namespace": "dup"}).status_code == 409
    assert requests.post(f"{url}/dup/properties", json={"name": "p", "type": "string"}).status_code == 400  # no title
    assert requests.post(f"{url}/dup/properties", json={"name": "p", "title": "P", "type": "text"}).status_code == 400
    assert requests.get(f"{url}/dup/objects/missing").status_code == 404
    assert requests.get(f"{url}/missing").status_code == 404
    assert requests.delete(f"{url}/dup").status_code == 204
    # Only admins change metadefs; a project member reads public namespaces only.
    hurl = f"{headers_server}/v2/metadefs/namespaces"
    admin = identity("ops", "admin")
    assert requests.post(hurl, json={"namespace": "Private::One"}, headers=admin).status_code == 201
    assert requests.post(hurl, json={"namespace": "Public::One", "visibility": "public"}, headers=admin).status_code == 201
    member = identity("alice")
    assert requests.post(hurl, json={"namespace": "Mine"}, headers=member).status_code == 403
    listed = [n["namespace"] for n in requests.get(hurl, headers=member).json()["namespaces"]]
    assert "Public::One" in listed and "Private::One" not in listed
    assert requests.get(f"{hurl}/Private::One", headers=member).status_code == 404
    assert requests.delete(f"{hurl}/Public::One", headers=member).status_code == 403


def test_legacy_tasks_api(server, headers_server):
    image = requests.post(f"{server}/v2/images", json={"name": "t", "disk_format": "raw", "container_format": "bare"}).json()
    assert requests.put(f"{server}/v2/images/{image['id']}/stage", data=b"abc",
                        headers={"Content-Type": "application/octet-stream"}).status_code == 204
    assert requests.post(f"{server}/v2/images/{image['id']}/import", json={"method": {"name": "glance-direct"}}).status_code == 202
    tasks = requests.get(f"{server}/v2/tasks", params={"type": "api_image_import", "status": "success"}).json()
    assert tasks["schema"] == "/v2/schemas/tasks"
    mine = [t for t in tasks["tasks"] if t["image_id"] == image["id"]]
    assert len(mine) == 1 and "input" not in mine[0]
    task = requests.get(f"{server}/v2/tasks/{mine[0]['id']}").json()
    assert task["status"] == "success" and task["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert task["self"] == f"/v2/tasks/{task['id']}"
    response = requests.delete(f"{server}/v2/tasks/{task['id']}")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert requests.post(f"{server}/v2/tasks", json={"type": "import", "input": {"import_from": "http://example.com/i.qcow2",
                         "import_from_format": "qcow2", "image_properties": {}}}).status_code == 400
    assert requests.get(f"{server}/v2/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    # Tasks are for admins.
    assert requests.get(f"{headers_server}/v2/tasks", headers=identity("alice")).status_code == 403


def run_load(data, *args):
    result = subprocess.run([granary_binary(), "metadefs", "load", "--data", data, "--json", *args], capture_output=True, text=True,
                            timeout=120)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_metadefs_load_command_beside_a_live_server(tmp_path):
    """`granary metadefs load` reads Glance's namespace files (glance-manage db_load_metadefs):
    new namespaces created, existing ones skipped, merged (with or without the files' versions
    winning) or overwritten; a bad file fails alone, named, and stores nothing."""
    with start_server() as server:
        url, store = server.url, server.store
        files = tmp_path / "metadefs"
        files.mkdir()
        namespace = {
            "namespace": "OS::Granary::Test", "display_name": "Test", "description": "loaded", "visibility": "public",
            "protected": True,
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}, {"name": "OS::Nova::Flavor", "prefix": "hw:"}],
            "properties": {"watchdog_action": {"title": "Watchdog Action", "type": "string", "enum": ["disabled", "reset"]}},
            "objects": [{"name": "CPU", "description": "cpu", "properties": {"cores": {"title": "Cores", "type": "integer"}}}],
            "tags": [{"name": "fast"}],
        }
        (files / "a-test.json").write_text(json.dumps(namespace))
        (files / "b-bad.json").write_text(json.dumps({"namespace": "OS::Granary::Bad", "visibility": "shared"}))
        (files / "c-broken.json").write_text('{"namespace": "OS::Granary::Broken",')
        (files / "d-list.json").write_text('[{"namespace": "OS::Granary::Listed"}]')
        (files / "notes.txt").write_text("not a namespace file")
        code, reports, _ = run_load(store, str(files))
        assert code == 1
        assert [(r["file"].rsplit("/", 1)[1], r["result"]) for r in reports] == [
            ("a-test.json", "created"), ("b-bad.json", "failed"), ("c-broken.json", "failed"), ("d-list.json", "failed")]
        assert "visibility" in reports[1]["error"]
        assert reports[2]["error"] == "malformed JSON" and "JSON object" in reports[3]["error"]
        for name in ("Broken", "Listed"):
            assert requests.get(f"{url}/v2/metadefs/namespaces/OS::Granary::{name}").status_code == 404
        assert requests.get(f"{url}/v2/metadefs/namespaces/OS::Granary::Bad").status_code == 404
        shown = requests.get(f"{url}/v2/metadefs/namespaces/OS::Granary::Test").json()
        assert shown["protected"] is True and shown["visibility"] == "public"
        assert sorted(r["name"] for r in shown["resource_type_associations"]) == ["OS::Glance::Image", "OS::Nova::Flavor"]
        assert shown["properties"]["watchdog_action"]["enum"] == ["disabled", "reset"]
        assert [o["name"] for o in shown["objects"]] == ["CPU"] and [t["name"] for t in shown["tags"]] == ["fast"]

        # The file changes: a new property, a new title for the old one, one tag gone.
        namespace["properties"]["watchdog_timeout"] = {"title": "Timeout", "type": "integer"}
        namespace["properties"]["watchdog_action"]["title"] = "Action"
        namespace["tags"] = [{"name": "new"}]
        namespace["description"] = "changed"
        test_file = files / "a-test.json"
        test_file.write_text(json.dumps(namespace))
        def properties():
            return requests.get(f"{url}/v2/metadefs/namespaces/OS::Granary::Test/properties").json()["properties"]
        def tags():
            return sorted(t["name"] for t in requests.get(f"{url}/v2/metadefs/namespaces/OS::Granary::Test/tags").json()["tags"])
        assert run_load(store, str(test_file))[1][0]["result"] == "skipped"
        assert sorted(properties()) == ["watchdog_action"]
        assert run_load(store, "--merge", str(test_file))[1][0]["result"] == "merged"
        assert sorted(properties()) == ["watchdog_action", "watchdog_timeout"] and properties()["watchdog_action"]["title"] == "Watchdog Action"
        assert tags() == ["fast", "new"]
        assert run_load(store, "--merge", "--prefer-new", str(test_file))[1][0]["result"] == "merged"
        assert properties()["watchdog_action"]["title"] == "Action"
        assert requests.get(f"{url}/v2/metadefs/namespaces/OS::Granary::Test").json()["description"] == "changed"
        assert run_load(store, "--merge", "--overwrite", str(test_file))[1][0]["result"] == "overwritten"
        assert tags() == ["new"]
        # Usage errors: Glance's rules for the flags.
        assert run_load(store, "--overwrite", str(test_file))[0] == 2

        # Glance's own catalog, where its package is at hand (a Glance installed from PyPI).
        glance_metadefs = pathlib.Path.home() / ".cache/granary-peers/venv-glance/etc/glance/metadefs"
        if glance_metadefs.is_dir():
            code, reports, stderr = run_load(store, str(glance_metadefs))
            assert code == 0, stderr
            assert {r["result"] for r in reports} == {"created"} and len(reports) == len(list(glance_metadefs.glob("*.json")))
            listed = requests.get(f"{url}/v2/metadefs/namespaces", params={"limit": 1000}).json()["namespaces"]
            assert "OS::Compute::Watchdog" in [n["namespace"] for n in listed]
