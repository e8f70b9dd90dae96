"""The Glare-style artifacts API over HTTP on its own listener: versions, schemas, create, blobs
(upload, Range download, digests), JSON patch lifecycle, lists, uniqueness under concurrency,
policy across projects (headers mode), bad input."""
import hashlib
import json
import os
import subprocess
import threading

import requests

from conftest import granary_binary, identity, start_server

PATCH = {"Content-Type": "application/json-patch+json"}


def create(root, type_name, body, headers=None):
    return requests.post(f"{root}/artifacts/{type_name}", json=body, headers=headers or {})


def test_versions_and_schemas(artifacts):
    response = requests.get(f"{artifacts}/")
    assert response.status_code == 300
    assert [v["version"] for v in response.json()["versions"]] == ["1.0", "1.1"]
    assert requests.get(f"{artifacts}/versions").status_code == 300
    schemas = requests.get(f"{artifacts}/schemas").json()["schemas"]
    assert {"heat_templates", "heat_environments", "murano_packages", "tosca_templates", "images", "sample_artifact"} <= set(schemas)
    images = requests.get(f"{artifacts}/schemas/images").json()["schemas"]["images"]
    assert images["properties"]["disk_format"]["glareType"] == "String"
    assert images["properties"]["image"]["glareType"] == "Blob"
    # As Glare's image type: the blob is optional on activation, the formats are required (no key).
    assert images["properties"]["image"]["required_on_activate"] is False
    assert "required_on_activate" not in images["properties"]["disk_format"]
    missing = requests.get(f"{artifacts}/schemas/nosuch")
    assert missing.status_code == 404
    error = missing.json()
    assert error["code"] == 404 and error["error"]["type"] == "TypeNotFound" and "nosuch" in error["error"]["message"]
    assert error["explanation"] == "The resource could not be found."  # WebOb's text, as Glare's fault wrapper sends


def test_heat_template_lifecycle_over_http(artifacts, server):
    created = create(artifacts, "heat_templates", {"name": "web-stack", "version": "1.2", "tags": ["web"]})
    assert created.status_code == 201, created.text
    artifact = created.json()
    assert artifact["version"] == "1.2.0" and artifact["status"] == "drafted" and artifact["visibility"] == "private"
    assert artifact["template"] is None and artifact["nested_templates"] == {}
    url = f"{artifacts}/artifacts/heat_templates/{artifact['id']}"

    template = b"heat_template_version: 2018-08-31\nresources: {}\n" * 1000
    uploaded = requests.put(url + "/template", data=template, headers={"Content-Type": "application/x-yaml"})
    assert uploaded.status_code == 200, uploaded.text
    blob = uploaded.json()["template"]
    assert blob["size"] == len(template) and blob["status"] == "active" and blob["external"] is False
    assert blob["sha256"] == hashlib.sha256(template).hexdigest()
    assert blob["md5"] == hashlib.md5(template).hexdigest() and blob["sha1"] == hashlib.sha1(template).hexdigest()
    assert blob["url"] == f"/artifacts/heat_templates/{artifact['id']}/template"
    # Folder entries, keys with slashes.
    nested = requests.put(url + "/nested_templates/net/ports.yaml", data=b"ports: []", headers={"Content-Type": "application/x-yaml"})
    assert nested.status_code == 200
    assert set(nested.json()["nested_templates"]) == {"net/ports.yaml"}
    assert requests.get(url + "/nested_templates/net/ports.yaml").content == b"ports: []"

    download = requests.get(url + "/template")
    assert download.content == template
    assert download.headers["Content-MD5"] == hashlib.md5(template).hexdigest()  # hex, as Glare sends it
    assert download.headers["Content-Type"] == "application/x-yaml"
    partial = requests.get(url + "/template", headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206 and partial.content == template[10:20]
    unsatisfiable = requests.get(url + "/template", headers={"Range": f"bytes={len(template)}-"})
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["Content-Range"] == f"bytes */{len(template)}"

    activated = requests.patch(url, data=json.dumps([{"op": "replace", "path": "/status", "value": "active"}]), headers=PATCH)
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"
    # Immutable now: the template and the name.
    assert requests.put(url + "/template", data=b"x", headers={"Content-Type": "text/plain"}).status_code == 403
    assert requests.patch(url, data=json.dumps([{"op": "replace", "path": "/name", "value": "n"}]), headers=PATCH).status_code == 403
    # Lists: by name, version range, latest, tags.
    create(artifacts, "heat_templates", {"name": "web-stack", "version": "2.0"})
    listed = requests.get(f"{artifacts}/artifacts/heat_templates", params={"name": "web-stack", "version": "latest"}).json()
    assert [a["version"] for a in listed["artifacts"]] == ["2.0.0"]
    assert listed["type_name"] == "heat_templates" and listed["schema"] == "/schemas/heat_templates"
    ranged = requests.get(f"{artifacts}/artifacts/heat_templates?name=web-stack&version=gte:1.0&version=lt:2.0").json()
    assert [a["id"] for a in ranged["artifacts"]] == [artifact["id"]]
    assert [a["id"] for a in requests.get(f"{artifacts}/artifacts/heat_templates?tags=web").json()["artifacts"]] == [artifact["id"]]
    everything = requests.get(f"{artifacts}/artifacts/all").json()
    assert all("type_name" in a for a in everything["artifacts"]) and everything["total_count"] >= 2

    assert requests.delete(url).status_code == 204
    assert requests.get(url).status_code == 404


def test_bad_input_gets_clear_4xx(artifacts):
    assert create(artifacts, "nosuch", {"name": "x"}).status_code == 404
    assert create(artifacts, "images", {"name": "x", "version": "1.x"}).status_code == 400
    assert create(artifacts, "images", {"name": "x", "disk_format": "floppy"}).status_code == 400
    assert create(artifacts, "images", {"name": "x", "min_ram": -1}).status_code == 400
    assert create(artifacts, "images", {"name": "x", "unknown_field": 1}).status_code == 400
    assert create(artifacts, "images", {"name": "x", "status": "active"}).status_code == 400
    assert create(artifacts, "images", {"version": "1.0"}).status_code == 400
    assert requests.post(f"{artifacts}/artifacts/images", data=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert requests.post(f"{artifacts}/artifacts/images", data=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415
    sample = create(artifacts, "sample_artifact", {"name": "limits"}).json()
    url = f"{artifacts}/artifacts/sample_artifact/{sample['id']}"
    assert requests.put(url + "/small_blob", data=b"x" * 11, headers={"Content-Type": "application/octet-stream"}).status_code == 413
    assert requests.get(url).json()["small_blob"] is None  # nothing stored half-way
    assert requests.patch(url, data=b"[{\"op\": \"frob\", \"path\": \"/name\"}]", headers=PATCH).status_code == 400
    assert requests.patch(url, data=b"[{\"op\": \"remove\", \"path\": \"/nosuch\"}]", headers=PATCH).status_code == 400
    assert requests.patch(url, data=b"{}", headers=PATCH).status_code == 400
    assert requests.get(f"{artifacts}/artifacts/sample_artifact?sort=description").status_code == 400
    assert requests.get(f"{artifacts}/artifacts/sample_artifact?int1=like:3").status_code == 400
    assert requests.get(url + "/blob").status_code == 404
    assert requests.get(f"{artifacts}/artifacts/images/{sample['id']}").status_code == 404  # another type's URL


def test_parallel_duplicate_creates_have_one_winner(artifacts):
    codes = []
    lock = threading.Lock()

    def attempt():
        code = create(artifacts, "tosca_templates", {"name": "race", "version": "3.0.0"}).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] + [409] * 15


def test_policy_across_projects(headers_granary):
    root = headers_granary.artifacts_url
    alice, bob, admin = identity("alice"), identity("bob"), identity("ops", "admin")
    artifact = create(root, "sample_artifact", {"name": "shared-lib", "string_required": "x"}, alice).json()
    url = f"{root}/artifacts/sample_artifact/{artifact['id']}"
    assert artifact["owner"] == "alice"
    assert requests.put(url + "/blob", data=b"payload", headers={**alice, "Content-Type": "application/octet-stream"}).status_code == 200
    assert requests.get(url, headers=bob).status_code == 404
    assert requests.get(url + "/blob", headers=bob).status_code == 404
    assert requests.delete(url, headers=bob).status_code == 404
    assert requests.patch(url, data=json.dumps([{"op": "replace", "path": "/status", "value": "active"}]),
                          headers={**alice, **PATCH}).status_code == 200
    # Publishing is the admin's; then everyone may read and download (Glare's default forbade it).
    publish = json.dumps([{"op": "replace", "path": "/visibility", "value": "public"}])
    assert requests.patch(url, data=publish, headers={**alice, **PATCH}).status_code == 403
    assert requests.patch(url, data=publish, headers={**admin, **PATCH}).status_code == 200
    assert requests.get(url + "/blob", headers=bob).content == b"payload"
    assert requests.delete(url, headers=alice).status_code == 403  # public: admin only
    assert artifact["id"] in [a["id"] for a in requests.get(f"{root}/artifacts/sample_artifact", headers=bob).json()["artifacts"]]
    assert requests.get(f"{root}/artifacts/sample_artifact", headers={"X-Identity-Status": "Invalid"}).status_code == 401
    assert requests.post(f"{root}/admin/verify-external", headers=bob).status_code == 403


def test_images_and_artifacts_share_data_and_fsck_counts_both():
    with start_server() as server:
        url, root = server.url, server.artifacts_url
        payload = os.urandom(3 << 20)
        image = requests.post(f"{url}/v2/images", json={"name": "i", "disk_format": "raw", "container_format": "bare"}).json()
        assert requests.put(f"{url}/v2/images/{image['id']}/file", data=payload,
                            headers={"Content-Type": "application/octet-stream"}).status_code == 204
        artifact = create(root, "images", {"name": "same-bytes"}).json()
        art_url = f"{root}/artifacts/images/{artifact['id']}"
        assert requests.put(art_url + "/image", data=payload, headers={"Content-Type": "application/octet-stream"}).status_code == 200
        stats = requests.get(f"{url}/admin/stats").json()
        # The same bytes are the same blob: one blob held twice, stored once.
        assert stats["blobs"] == 1 and stats["logical_bytes"] == len(payload), stats
        fsck = subprocess.run([*server.command("fsck"), "--json"],
                              capture_output=True, text=True, timeout=60)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        assert json.loads(fsck.stdout)["ok"] is True
        # Dropping the artifact leaves the image's data whole.
        assert requests.delete(art_url).status_code == 204
        assert hashlib.sha256(requests.get(f"{url}/v2/images/{image['id']}/file").content).digest() == hashlib.sha256(payload).digest()
        fsck = subprocess.run([*server.command("fsck"), "--json"],
                              capture_output=True, text=True, timeout=60)
        assert fsck.returncode == 0, fsck.stdout


def serve_remote(content):
    """A loopback HTTP server for external locations: `content` maps paths to bodies (changeable
    while it runs); `/moved` redirects to `/tpl.yaml`. Returns the server and its base URL."""
    import http.server
    import socketserver

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/tpl.yaml")
                self.end_headers()
                return
            body = content.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-yaml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    remote = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=remote.serve_forever, daemon=True).start()
    return remote, f"http://127.0.0.1:{remote.server_address[1]}"


def set_location(blob_url, location, **claims):
    return requests.put(blob_url, json={"url": location, **claims}, headers=LOCATION)


def assert_digest_refused(art, location, **claims):
    """A location whose claimed digest does not match is a 400, and the blob stays unset."""
    wrong = set_location(art + "/template", location, **claims)
    assert wrong.status_code == 400 and "does not match" in wrong.json()["error"]["message"]
    assert requests.get(art).json()["template"] is None


EXTERNAL_ENV = {"GRANARY_ARTIFACTS_EXTERNAL_ALLOW_HTTP": "true", "GRANARY_ARTIFACTS_EXTERNAL_ALLOWED_HOSTS": "127.0.0.1"}
LOCATION = {"Content-Type": "application/vnd+openstack.glare-custom-location+json"}


def test_external_locations_are_fetched_verified_and_rechecked(tmp_path):
    content = {"/tpl.yaml": b"heat_template_version: 2021-04-16\n" * 100}
    remote, remote_url = serve_remote(content)
    env = EXTERNAL_ENV
    with start_server(env=env) as server:
        url, root = server.url, server.artifacts_url
        artifact = create(root, "heat_templates", {"name": "ext"}).json()
        art = f"{root}/artifacts/heat_templates/{artifact['id']}"
        body = content["/tpl.yaml"]
        # A wrong claimed digest is refused, and nothing is recorded.
        assert_digest_refused(art, remote_url + "/tpl.yaml", md5="0" * 32)
        # Through a redirect, with the right md5: the real size and digests are recorded.
        done = set_location(art + "/template", remote_url + "/moved", md5=hashlib.md5(body).hexdigest())
        assert done.status_code == 200, done.text
        blob = done.json()["template"]
        assert blob["external"] is True and blob["size"] == len(body) and blob["sha256"] == hashlib.sha256(body).hexdigest()
        assert blob["url"] == remote_url + "/moved"
        download = requests.get(art + "/template", allow_redirects=False)
        assert download.status_code == 301 and download.headers["Location"] == remote_url + "/moved"
        assert set_location(art + "/template", remote_url + "/tpl.yaml").status_code == 409
        # The field's size cap holds for fetched bytes too (small_blob: 10 bytes), nothing recorded.
        small = create(root, "sample_artifact", {"name": "ext-small"}).json()
        small_url = f"{root}/artifacts/sample_artifact/{small['id']}"
        assert set_location(small_url + "/small_blob", remote_url + "/tpl.yaml").status_code == 413
        assert requests.get(small_url).json()["small_blob"] is None
        # Refused: private addresses not allow-listed, link-local metadata, credentials, bad scheme.
        other = create(root, "heat_templates", {"name": "ext2"}).json()
        other_url = f"{root}/artifacts/heat_templates/{other['id']}/template"
        for refused in ["http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data", "http://localhost:1/x",
                        "http://user:pw@127.0.0.1:1/x", "ftp://127.0.0.1/x", "not a url"]:
            response = set_location(other_url, refused)
            assert response.status_code == 400, (refused, response.text)

        def verify():
            out = subprocess.run([*server.command("verify-external"), "--json"],
                                 capture_output=True, text=True, timeout=60, env={**os.environ, **env})
            return out.returncode, [json.loads(line) for line in out.stdout.splitlines()]

        code, lines = verify()
        assert code == 0 and [(l["artifact"], l["blob"], l["status"]) for l in lines] == [(artifact["id"], "template", "ok")]
        assert set(lines[0]) == {"artifact", "type", "blob", "url", "status"}
        admin = requests.post(f"{root}/admin/verify-external").json()
        assert admin["ok"] is True and [b["status"] for b in admin["blobs"]] == ["ok"]
        content["/tpl.yaml"] = b"changed"
        code, lines = verify()
        assert code == 1 and lines[0]["status"] == "changed"
        admin = requests.post(f"{root}/admin/verify-external").json()
        assert admin["ok"] is False and admin["blobs"][0]["status"] == "changed" and "sha256" in admin["blobs"][0]["detail"]
        remote.shutdown()
        remote.server_close()
        code, lines = verify()
        assert code == 1 and lines[0]["status"] == "unreachable"
        # Deleting the artifact never touches the remote; the store holds nothing of it.
        assert requests.delete(art).status_code == 204
        assert requests.get(f"{url}/admin/stats").json()["blobs"] == 0


def test_external_locations_copied_into_the_store():
    """With artifacts.external.copy the fetched bytes are stored: the blob is internal, served
    from the store (not a redirect) and unaffected by later changes at the remote."""
    body = b"heat_template_version: 2021-04-16\nresources: {}\n" * 200
    content = {"/tpl.yaml": body}
    remote, remote_url = serve_remote(content)
    env = {**EXTERNAL_ENV, "GRANARY_ARTIFACTS_EXTERNAL_COPY": "true"}
    with start_server(env=env) as server:
        url, root = server.url, server.artifacts_url
        art = f"{root}/artifacts/heat_templates/{create(root, 'heat_templates', {'name': 'copied'}).json()['id']}"
        assert_digest_refused(art, remote_url + "/tpl.yaml", sha256="0" * 64)
        done = set_location(art + "/template", remote_url + "/moved", md5=hashlib.md5(body).hexdigest())
        assert done.status_code == 200, done.text
        blob = done.json()["template"]
        assert blob["external"] is False and blob["status"] == "active" and blob["size"] == len(body)
        assert blob["sha256"] == hashlib.sha256(body).hexdigest() and blob["content_type"] == "application/x-yaml"
        content["/tpl.yaml"] = b"changed at the remote"
        remote.shutdown()
        remote.server_close()
        download = requests.get(art + "/template", allow_redirects=False)
        assert download.status_code == 200 and download.content == body
        out = subprocess.run([*server.command("verify-external"), "--json"],
                             capture_output=True, text=True, timeout=60, env={**os.environ, **env})
        assert out.returncode == 0 and out.stdout == ""  # nothing external left to check
        assert requests.get(f"{url}/admin/stats").json()["blobs"] == 1


def test_quota_endpoints(headers_granary):
    root = headers_granary.artifacts_url
    admin, carol = identity("ops", "admin"), identity("carol")
    body = [{"project_id": "carol", "project_quotas": [{"quota_name": "max_artifact_number:tosca_templates", "quota_value": 1},
                                                        {"quota_name": "max_uploaded_data", "quota_value": 100}]}]
    assert requests.put(f"{root}/quotas", json=body, headers=carol).status_code == 403
    assert requests.put(f"{root}/quotas", json=body, headers=admin).status_code == 200
    assert requests.put(f"{root}/quotas", json=[{"project_id": "carol", "project_quotas": [{"quota_name": "nope", "quota_value": 1}]}],
                        headers=admin).status_code == 400
    listed = requests.get(f"{root}/quotas", headers=admin).json()
    assert {"project_id": "carol", "project_quotas": body[0]["project_quotas"]} in listed["quotas"]
    assert requests.get(f"{root}/quotas", headers=carol).status_code == 403
    mine = requests.get(f"{root}/project-quotas", headers=carol).json()
    assert mine[0]["project_id"] == "carol" and len(mine[0]["project_quotas"]) == 2
    assert requests.get(f"{root}/project-quotas/ops", headers=carol).status_code == 403
    first = create(root, "tosca_templates", {"name": "q1"}, carol)
    assert first.status_code == 201
    assert create(root, "tosca_templates", {"name": "q2"}, carol).status_code == 403
    url = f"{root}/artifacts/tosca_templates/{first.json()['id']}/template"
    assert requests.put(url, data=b"x" * 101, headers={**carol, "Content-Type": "text/plain"}).status_code == 413
    assert requests.put(url, data=b"x" * 100, headers={**carol, "Content-Type": "text/plain"}).status_code == 200
