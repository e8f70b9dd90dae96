"""Hostile input against both APIs and the auth modes: every request below once stopped the
server, answered 5xx or leaked what it should not. Each must get a 4xx (or the intended 2xx) in the
API's own error format, with no internal error text, the server alive afterwards, and nothing
stored by a refused request; fsck of the data directory is clean at the end."""
import hashlib
import json
import os
import socket
import subprocess
import time
import uuid

import pytest
import requests

from conftest import granary_binary, identity, start_server

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
GLARE_PATCH = {"Content-Type": "application/json-patch+json"}
LOCATION = {"Content-Type": "application/vnd+openstack.glare-custom-location+json"}
HUGE = "9223372036854775807"
CLIENT_HEADER_TIMEOUT = () if os.environ.get("HOSTILE_BASELINE") else ("--client-header-timeout", "2")
INTERNAL = ("Traceback", "Fatal error", "internalServerError", "Swift/", ".swift:", "LMDB", "MDB_", "store failed")


def fsck_clean(store):
    check = subprocess.run([granary_binary(), "fsck", "--data", store, "--json"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["ok"] is True


@pytest.fixture(scope="module")
def target():
    """A noauth server of this module's own, whose data directory is checked with fsck at the end."""
    with start_server() as server:
        yield server
        assert server.alive(), "the server died: " + server.log_text()[-3000:]
        server.stop(remove=False)
        fsck_clean(server.store)


@pytest.fixture(scope="module")
def headers_target():
    with start_server("--auth", "headers", *CLIENT_HEADER_TIMEOUT) as server:
        yield server
        assert server.alive(), "the server died: " + server.log_text()[-3000:]


@pytest.fixture
def images(target):
    yield target.url
    alive(target)


@pytest.fixture
def glare(target):
    yield target.artifacts_url
    alive(target)


@pytest.fixture
def guarded(headers_target):
    yield headers_target.url
    alive(headers_target)


def alive(server):
    assert server.alive(), "the server process is gone"
    assert requests.get(server.url + "/versions", timeout=5).status_code == 200
    assert requests.get(server.artifacts_url + "/versions", timeout=5).status_code == 300


def client_error(response, status=400):
    """A 4xx of the expected status whose body carries no internal error text."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    for marker in INTERNAL:
        assert marker not in response.text, response.text[:500]
    return response


def glance_error(response, status=400):
    client_error(response, status)
    body = response.json()  # requests sends Accept: */*; these tests ask for JSON where they parse it
    assert body["code"].startswith(str(status)), body
    return body


def glare_error(response, status=400):
    client_error(response, status)
    body = response.json()
    assert body["code"] == status and body["error"]["message"], body
    return body


JSON = {"Accept": "application/json"}


def new_image(url, data=None, **fields):
    body = {"name": "hostile", "disk_format": "raw", "container_format": "bare", **fields}
    image = requests.post(f"{url}/v2/images", json=body).json()
    if data is not None:
        up = requests.put(f"{url}/v2/images/{image['id']}/file", data=data, headers={"Content-Type": "application/octet-stream"})
        assert up.status_code == 204, up.text
    return image["id"]


def new_artifact(glare, type_name="sample_artifact", **fields):
    created = requests.post(f"{glare}/artifacts/{type_name}", json={"name": "hostile-" + uuid.uuid4().hex, **fields})
    assert created.status_code == 201, created.text
    return created.json()["id"]


# F1: a range end past Int.max was `end + 1`.
@pytest.mark.parametrize("header,expected", [
    (f"bytes=0-{HUGE}", (206, 0, 99)),
    (f"bytes=10-{HUGE}", (206, 10, 99)),
    (f"bytes=-{HUGE}", (206, 0, 99)),
    ("bytes=0-99999999999999999999999", (206, 0, 99)),
    (f"bytes={HUGE}-", (416, None, None)),
    ("bytes=99999999999999999999999-", (416, None, None)),
])
def test_huge_ranges_are_clipped(images, glare, header, expected):
    body = bytes(range(100))
    image_id = new_image(images, body)
    artifact = new_artifact(glare)
    assert requests.put(f"{glare}/artifacts/sample_artifact/{artifact}/blob", data=body,
                        headers={"Content-Type": "application/octet-stream"}).status_code == 200
    for url in (f"{images}/v2/images/{image_id}/file", f"{glare}/artifacts/sample_artifact/{artifact}/blob"):
        response = requests.get(url, headers={"Range": header})
        status, start, end = expected
        assert response.status_code == status, (url, header, response.text[:300])
        if status == 206:
            assert response.content == body[start:end + 1]
            assert response.headers["Content-Range"] == f"bytes {start}-{end}/100"


# A malformed Range is ignored, as WebOb does: 200 with the whole body.
@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "items=0-5", "bytes=", "bytes=--1", "bytes=1-2-3", "bytes=+1-2"])
def test_malformed_ranges_are_ignored(images, glare, header):
    body = b"0123456789" * 10
    image_id = new_image(images, body)
    artifact = new_artifact(glare)
    requests.put(f"{glare}/artifacts/sample_artifact/{artifact}/blob", data=body, headers={"Content-Type": "application/octet-stream"})
    for url in (f"{images}/v2/images/{image_id}/file", f"{glare}/artifacts/sample_artifact/{artifact}/blob"):
        response = requests.get(url, headers={"Range": header})
        assert response.status_code == 200, (header, response.status_code, response.text[:300])
        assert response.content == body


# F2: min_disk / min_ram that no integer holds.
@pytest.mark.parametrize("value", ["1e19", "1e300", "-1e300", "18446744073709551616", "1.5", "9223372036854775808"])
def test_min_disk_out_of_range_is_400(images, value):
    for field in ("min_disk", "min_ram"):
        body = '{"name": "big", "%s": %s}' % (field, value)
        before = len(requests.get(f"{images}/v2/images?limit=1000").json()["images"])
        glance_error(requests.post(f"{images}/v2/images", data=body, headers={"Content-Type": "application/json", **JSON}))
        assert len(requests.get(f"{images}/v2/images?limit=1000").json()["images"]) == before
        image_id = new_image(images)
        patch = '[{"op": "replace", "path": "/%s", "value": %s}]' % (field, value)
        glance_error(requests.patch(f"{images}/v2/images/{image_id}", data=patch, headers={**PATCH, **JSON}))
        assert requests.get(f"{images}/v2/images/{image_id}").json()[field] == 0


# F3: an artifact version given as a number no Int holds.
@pytest.mark.parametrize("value", ["1e19", "1e300", "9223372036854775808", "-1e19"])
def test_artifact_numeric_version_out_of_range_is_400(glare, value):
    body = '{"name": "numver", "version": %s}' % value
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", data=body, headers={"Content-Type": "application/json"}))
    artifact = new_artifact(glare)
    patch = '[{"op": "replace", "path": "/version", "value": %s}]' % value
    glare_error(requests.patch(f"{glare}/artifacts/sample_artifact/{artifact}", data=patch, headers=GLARE_PATCH))
    name = "numver-" + uuid.uuid4().hex
    assert requests.post(f"{glare}/artifacts/sample_artifact", json={"name": name, "version": 3}).json()["version"] == "3.0.0"


# F4: sort keys that split to nothing.
@pytest.mark.parametrize("sort", [":", "name,:", ":desc", "::", "name:asc:desc", "name:", ",:,"])
def test_empty_sort_keys_are_400(glare, sort):
    for type_name in ("sample_artifact", "all"):
        glare_error(requests.get(f"{glare}/artifacts/{type_name}", params={"sort": sort}))


# F5: a port outside 1–65535 in an external location or a web-download URI.
@pytest.mark.parametrize("url", ["https://192.0.2.1:99999/x", "https://192.0.2.1:65536/x", "https://192.0.2.1:0/x",
                                 "https://192.0.2.1:-1/x", "https://[::1/x", "https://%zz/x", "https://a..b:99999999999999999999/x"])
def test_bad_ports_in_external_urls_are_400(images, glare, url):
    artifact = new_artifact(glare)
    response = requests.put(f"{glare}/artifacts/sample_artifact/{artifact}/blob", data=json.dumps({"url": url}), headers=LOCATION)
    glare_error(response)
    assert requests.get(f"{glare}/artifacts/sample_artifact/{artifact}").json()["blob"] is None
    image_id = new_image(images)
    response = requests.post(f"{images}/v2/images/{image_id}/import",
                             json={"method": {"name": "web-download", "uri": url}}, headers=JSON)
    glance_error(response)
    assert requests.get(f"{images}/v2/images/{image_id}").json()["status"] == "queued"


# F6: quota names that split to nothing.
@pytest.mark.parametrize("name", ["", ":", "::", ":images", "max_artifact_number:", "max_artifact_number::x"])
def test_empty_quota_names_are_400(glare, name):
    body = [{"project_id": "hostile-project", "project_quotas": [{"quota_name": name, "quota_value": 5}]}]
    glare_error(requests.put(f"{glare}/quotas", json=body))
    assert requests.get(f"{glare}/project-quotas/hostile-project").status_code == 200


@pytest.mark.parametrize("value", [1e19, 1e300, 1.5, -2])
def test_quota_values_out_of_range_are_400(glare, value):
    body = [{"project_id": "hostile-project", "project_quotas": [{"quota_name": "max_artifact_number", "quota_value": value}]}]
    glare_error(requests.put(f"{glare}/quotas", json=body))


# F7: `like` is a linear wildcard match (SQL LIKE: % any run, _ one character), not a regex.
def test_like_is_a_wildcard_match_not_a_regex(glare):
    long_name = "a" * 255
    for i in range(12):
        new_artifact(glare, name=long_name, version=f"{i}.0.0")
    new_artifact(glare, name="like-a.b", version="1.0.0")
    new_artifact(glare, name="like-aXb", version="1.0.0")
    started = time.monotonic()
    for pattern in ("%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b", "%" + "a%" * 120 + "b", "%" + "_%" * 120 + "b"):
        response = requests.get(f"{glare}/artifacts/sample_artifact", params={"name": "like:" + pattern}, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["artifacts"] == []
    assert time.monotonic() - started < 30
    names = lambda p: sorted(a["name"] for a in requests.get(f"{glare}/artifacts/sample_artifact", params={"name": "like:" + p, "limit": 100}).json()["artifacts"])
    assert names("like-a.b") == ["like-a.b"]  # `.` is no wildcard
    assert names("like-a_b") == ["like-a.b", "like-aXb"]
    assert names("like-%") == ["like-a.b", "like-aXb"]
    assert names("%.b") == ["like-a.b"]
    assert len(names("a%a")) == 12
    # A pattern longer than any name can be is refused.
    glare_error(requests.get(f"{glare}/artifacts/sample_artifact", params={"name": "like:" + "%" * 256}))


def test_query_parameter_count_is_capped(images, glare):
    many = "&".join(f"x{i}=1" for i in range(500))
    glance_error(requests.get(f"{images}/v2/images?{many}", headers=JSON))
    glare_error(requests.get(f"{glare}/artifacts/sample_artifact?{many}"))


# F8: client errors that were 500s.
def test_json_body_over_the_limit_is_413(images, glare):
    body = json.dumps({"name": "big", "description": "x" * (2 << 20)})
    glance_error(requests.post(f"{images}/v2/images", data=body, headers={"Content-Type": "application/json", **JSON}), 413)
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", data=body, headers={"Content-Type": "application/json"}), 413)
    patch = json.dumps([{"op": "replace", "path": "/description", "value": "x" * (2 << 20)}])
    artifact = new_artifact(glare)
    glare_error(requests.patch(f"{glare}/artifacts/sample_artifact/{artifact}", data=patch, headers=GLARE_PATCH), 413)


def raw_request(url, payload, read_timeout=5):
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as s:
        s.sendall(payload)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 12:
                    head = b"".join(chunks).split(b"\r\n\r\n", 1)
                    length = [int(line.split(b":")[1]) for line in head[0].split(b"\r\n") if line.lower().startswith(b"content-length:")]
                    if length and len(head[1]) >= length[0]:
                        break
        except socket.timeout:
            pass
        return b"".join(chunks)


@pytest.mark.parametrize("framing", [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhello!!\r\n0\r\n\r\n", b"fffffffffffffffffff\r\nx\r\n"])
def test_bad_chunked_framing_is_400(images, framing):
    image_id = new_image(images)
    head = (f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    answer = raw_request(images, head + framing)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert requests.get(f"{images}/v2/images/{image_id}").json()["status"] == "queued"


def test_long_multibyte_names_and_member_ids(images, glare, guarded):
    name = "名" * 255
    created = requests.post(f"{images}/v2/images", json={"name": name, "disk_format": "raw", "container_format": "bare"})
    assert created.status_code == 201, created.text
    assert requests.get(f"{images}/v2/images", params={"name": name}).json()["images"][0]["id"] == created.json()["id"]
    assert requests.get(f"{images}/v2/images", params={"sort_key": "name"}).status_code == 200
    tagged = requests.put(f"{images}/v2/images/{created.json()['id']}/tags/{'標' * 255}")
    assert tagged.status_code == 204, tagged.text
    glance_error(requests.post(f"{images}/v2/images", json={"name": "名" * 256}, headers=JSON))
    # Member ids of 255 multi-byte characters.
    owner = identity("alice")
    shared = requests.post(f"{guarded}/v2/images", json={"name": "shared", "visibility": "shared"}, headers=owner).json()
    member = "員" * 255
    added = requests.post(f"{guarded}/v2/images/{shared['id']}/members", json={"member": member}, headers=owner)
    assert added.status_code == 200, added.text
    listed = requests.get(f"{guarded}/v2/images/{shared['id']}/members", headers=owner).json()["members"]
    assert [m["member_id"] for m in listed] == [member]
    # Artifacts: names of 255 multi-byte characters, unique and listable.
    long = requests.post(f"{glare}/artifacts/sample_artifact", json={"name": "名" * 255, "version": "1.0.0"})
    assert long.status_code == 201, long.text
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", json={"name": "名" * 255, "version": "1.0.0"}), 409)
    latest = requests.get(f"{glare}/artifacts/sample_artifact", params={"name": "名" * 255, "version": "latest"}).json()
    assert [a["id"] for a in latest["artifacts"]] == [long.json()["id"]]
    assert requests.put(f"{glare}/artifacts/sample_artifact/{long.json()['id']}/dict_of_blobs/{'鍵' * 255}", data=b"v",
                        headers={"Content-Type": "application/octet-stream"}).status_code == 200


# F9: error pages escape what they echo.
def test_html_error_pages_escape_request_text(images):
    response = client_error(requests.get(f"{images}/v2/images", params={"sort_key": "<script>alert(1)</script>"},
                                         headers={"Accept": "text/html"}))
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text


# F10: authorization before the URI filter; its message names no address.
def test_web_download_filter_runs_after_authorization(guarded):
    alice = identity("alice")
    image = requests.post(f"{guarded}/v2/images", json={"name": "private", "disk_format": "raw", "container_format": "bare"},
                          headers=alice).json()
    body = {"method": {"name": "web-download", "uri": "http://localhost/x"}}
    missing = requests.post(f"{guarded}/v2/images/00000000-0000-0000-0000-000000000000/import", json=body, headers={**alice, **JSON})
    glance_error(missing, 404)
    bob = requests.post(f"{guarded}/v2/images/{image['id']}/import", json=body, headers={**identity("bob"), **JSON})
    glance_error(bob, 404)
    own = glance_error(requests.post(f"{guarded}/v2/images/{image['id']}/import", json=body, headers={**alice, **JSON}))
    assert "127.0.0.1" not in own["message"] and "::1" not in own["message"], own


# F11: identity headers are taken as sent.
def test_identity_headers_are_not_percent_decoded(guarded):
    sneaky = {**identity("mallory"), "X-Roles": "reader%2Cadmin"}
    glance_error(requests.get(f"{guarded}/v2/images", headers={**sneaky, **JSON}), 403)
    both = {**identity("mallory"), "X-Roles": "reader, admin"}
    assert requests.post(f"{guarded}/v2/images", json={"name": "pub", "visibility": "public"}, headers=both).status_code == 201


# F12: no project, no writes (but admins and reads).
def test_identities_without_a_project_cannot_write(guarded, headers_target):
    nobody = {"X-Identity-Status": "Confirmed", "X-User-Id": "domain-user", "X-Roles": "reader,member"}
    glance_error(requests.post(f"{guarded}/v2/images", json={"name": "orphan"}, headers={**nobody, **JSON}), 403)
    assert requests.get(f"{guarded}/v2/images", headers=nobody).status_code == 200
    admin = {"X-Identity-Status": "Confirmed", "X-User-Id": "root", "X-Roles": "admin"}
    orphan = requests.post(f"{guarded}/v2/images", json={"name": "orphan", "owner": None}, headers=admin)
    assert orphan.status_code == 201, orphan.text
    image_id = orphan.json()["id"]
    patch = json.dumps([{"op": "replace", "path": "/name", "value": "mine"}])
    glance_error(requests.patch(f"{guarded}/v2/images/{image_id}", data=patch, headers={**nobody, **PATCH, **JSON}), 403)
    glance_error(requests.delete(f"{guarded}/v2/images/{image_id}", headers={**nobody, **JSON}), 403)
    assert requests.get(f"{guarded}/v2/images/{image_id}", headers=admin).json()["name"] == "orphan"
    glare = headers_target.artifacts_url
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", json={"name": "orphan"}, headers=nobody), 403)


# F13: a NUL in an artifact name would alias another name's keys.
def test_nul_in_artifact_names_is_400(glare):
    new_artifact(glare, name="nulbase", version="1.0.0")
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", json={"name": "nulbase\u0000zzz", "version": "9.0.0"}))
    artifact = new_artifact(glare, name="other")
    patch = json.dumps([{"op": "replace", "path": "/name", "value": "nulbase\u0000"}])
    glare_error(requests.patch(f"{glare}/artifacts/sample_artifact/{artifact}", data=patch, headers=GLARE_PATCH))
    latest = requests.get(f"{glare}/artifacts/sample_artifact", params={"name": "nulbase", "version": "latest"}).json()
    assert [a["version"] for a in latest["artifacts"]] == ["1.0.0"]


# F14: no 100 Continue (and no body read into the store) before authentication.
def test_no_continue_before_authentication(guarded):
    alice = identity("alice")
    image = requests.post(f"{guarded}/v2/images", json={"name": "c", "disk_format": "raw", "container_format": "bare"},
                          headers=alice).json()
    host, port = guarded.split("//")[1].split(":")
    head = (f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(head)
        first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 401"), first[:200]
    assert b"100 Continue" not in first
    # With identity headers the same request is told to continue.
    authed = head.replace(b"\r\n\r\n", ("\r\n" + "\r\n".join(f"{k}: {v}" for k, v in alice.items()) + "\r\n\r\n").encode(), 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(authed)
        first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 100"), first[:200]
    assert requests.get(f"{guarded}/v2/images/{image['id']}", headers=alice).json()["status"] in ("queued", "saving")


# Resource bounds: a client that trickles its request head is cut off after client_header_timeout.
def test_trickled_headers_are_cut_off(guarded):
    host, port = guarded.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /versions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 8:
            try:
                s.sendall(b"X-Slow: y\r\n")
            except OSError:
                closed = True
                break
            s.settimeout(0.5)
            try:
                if s.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
        assert closed, "a trickling client kept its connection past client_header_timeout"


# Glance's own parsing: `+` is a space in query values; path parameters are percent-decoded.
def test_plus_in_queries_and_percent_in_paths(images):
    image_id = new_image(images, name="plus and space")
    found = requests.get(f"{images}/v2/images?name=plus+and+space").json()["images"]
    assert [i["id"] for i in found] == [image_id]
    assert requests.put(f"{images}/v2/images/{image_id}/tags/a%20b").status_code == 204
    assert requests.get(f"{images}/v2/images/{image_id}").json()["tags"] == ["a b"]
    assert requests.delete(f"{images}/v2/images/{image_id}/tags/a%20b").status_code == 204
    assert requests.get(f"{images}/v2/images/{image_id}").json()["tags"] == []


def test_json_duplicates_keep_the_last_and_trailing_commas_are_400(images, glare):
    created = requests.post(f"{images}/v2/images", data='{"name": "first", "name": "last"}', headers={"Content-Type": "application/json"})
    assert created.status_code == 201 and created.json()["name"] == "last", created.text
    glance_error(requests.post(f"{images}/v2/images", data='{"name": "x",}', headers={"Content-Type": "application/json", **JSON}))
    glance_error(requests.post(f"{images}/v2/images", data='{"name": "x"} trailing', headers={"Content-Type": "application/json", **JSON}))
    glance_error(requests.post(f"{images}/v2/images", data='[1, 2,]', headers={"Content-Type": "application/json", **JSON}))
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", data='{"name": "x",}', headers={"Content-Type": "application/json"}))
    deep = "[" * 100000 + "]" * 100000
    glance_error(requests.post(f"{images}/v2/images", data=deep, headers={"Content-Type": "application/json", **JSON}))
    glare_error(requests.post(f"{glare}/artifacts/sample_artifact", data=deep, headers={"Content-Type": "application/json"}))


def test_head_and_options_are_405_with_allow(images):
    image_id = new_image(images)
    for method in ("HEAD", "OPTIONS"):
        response = requests.request(method, f"{images}/v2/images/{image_id}")
        assert response.status_code == 405, (method, response.status_code)
        assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}
        listing = requests.request(method, f"{images}/v2/images")
        assert listing.status_code == 405 and set(listing.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_double_slash_paths_are_404(images):
    assert requests.get(f"{images}/v2//images").status_code == 404
    assert requests.get(f"{images}//v2/images").status_code == 404


@pytest.mark.parametrize("path,expected", [
    ("/na~0me", "na~me"), ("/x~1y", "x/y"), ("/ spaced ", "spaced"),
])
def test_json_pointers_decode_as_glance(images, path, expected):
    image_id = new_image(images)
    body = json.dumps([{"op": "add", "path": path, "value": "v"}])
    response = requests.patch(f"{images}/v2/images/{image_id}", data=body, headers=PATCH)
    assert response.status_code == 200, response.text
    assert response.json()[expected] == "v"


@pytest.mark.parametrize("path", ["/a~2b", "/a~", "/~", "/a~0~b", "//a", "/a/", "a", "/", "/ / "])
def test_bad_json_pointers_are_400(images, path):
    image_id = new_image(images)
    body = json.dumps([{"op": "add", "path": path, "value": "v"}])
    glance_error(requests.patch(f"{images}/v2/images/{image_id}", data=body, headers={**PATCH, **JSON}))


def test_limit_over_the_maximum_is_capped(images):
    response = requests.get(f"{images}/v2/images", params={"limit": "100000"})
    assert response.status_code == 200
    glance_error(requests.get(f"{images}/v2/images", params={"limit": "99999999999999999999999"}, headers=JSON))
    glance_error(requests.get(f"{images}/v2/images", params={"limit": "-1"}, headers=JSON))


@pytest.mark.parametrize("query", [
    "size_min=99999999999999999999", "size_max=-99999999999999999999", "created_at=gt:99999-01-01T00:00:00Z",
    "created_at=gt:+275760-09-13T00:00:00Z", "updated_at=lte:1e400", "limit=1e3", "marker=%00", "name=in:" + "," * 1000,
    "sort=name:asc:desc", "sort=:", "sort=,", "sort_key=name&sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc",
])
def test_odd_image_queries_are_answered(images, query):
    response = requests.get(f"{images}/v2/images?{query}", headers=JSON)
    assert response.status_code in (200, 400), (query, response.status_code, response.text[:300])
    for marker in INTERNAL:
        assert marker not in response.text


@pytest.mark.parametrize("query", [
    "version=gt:99999999999999999999.0.0", "version=9223372036854775808.1.1", "version=1.0.0-" + "a." * 300,
    "int1=gt:1e400", "created_at=gt:99999-01-01T00:00:00Z", "limit=99999999999999999999", "tags=" + "," * 100,
    "name=in:" + "," * 100, "marker=../../x", "sort=version:asc,name", "version=latest&sort=name",
])
def test_odd_artifact_queries_are_answered(glare, query):
    response = requests.get(f"{glare}/artifacts/sample_artifact?{query}")
    # An unknown marker is Glare's 404 ArtifactNotFound; everything else a list or a 400.
    expected = (404,) if query.startswith("marker=") else (200, 400)
    assert response.status_code in expected, (query, response.status_code, response.text[:300])
    for marker in INTERNAL:
        assert marker not in response.text


@pytest.mark.parametrize("version", ["99999999999999999999.0.0", "1.99999999999999999999.0", "1.0.0-99999999999999999999",
                                     "1.0.0-" + "x" * 300, "01.0.0", "1.0.0+" + "." * 3, "", " "])
def test_odd_artifact_versions(glare, version):
    response = requests.post(f"{glare}/artifacts/sample_artifact", json={"name": "odd-version", "version": version})
    assert response.status_code in (201, 400), (version, response.status_code, response.text[:300])
    if response.status_code == 201:
        listed = requests.get(f"{glare}/artifacts/sample_artifact", params={"name": "odd-version", "version": "latest"})
        assert listed.status_code == 200


def test_hostile_patches(images, glare):
    image_id = new_image(images)
    for body in ['{"op": "add"}', "[1]", '[{"op": "add", "path": 5, "value": 1}]', '[{"op": "move", "path": "/x", "from": "/y"}]',
                 '[{"op": "add", "path": "/tags", "value": [' + ",".join(['"t%d"' % i for i in range(300)]) + "]}]",
                 '[{"op": "add", "path": "/x", "value": {"nested": [1]}}]']:
        response = requests.patch(f"{images}/v2/images/{image_id}", data=body, headers={**PATCH, **JSON})
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text[:300])
    artifact = new_artifact(glare)
    for body in ['[{"op": "add", "path": "/list_of_str/99999999999999999999", "value": "x"}]',
                 '[{"op": "add", "path": "/list_of_str/-1", "value": "x"}]',
                 '[{"op": "add", "path": "/dict_of_str/~2", "value": "x"}]',
                 '[{"op": "copy", "path": "/dict_of_str/a", "from": "/dict_of_str"}]',
                 '[{"op": "move", "path": "/dict_of_str/a/b", "from": "/dict_of_str"}]',
                 '[{"op": "test", "path": "/int1", "value": 1e400}]',
                 '[{"op": "replace", "path": "/int1", "value": 1e19}]',
                 '[{"op": "replace", "path": "/int1", "value": 99999999999999999999}]']:
        response = requests.patch(f"{glare}/artifacts/sample_artifact/{artifact}", data=body, headers=GLARE_PATCH)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text[:300])


@pytest.mark.parametrize("header,value", [
    ("Content-Length", "99999999999999999999"), ("Content-Length", "-1"), ("x-openstack-image-size", "99999999999999999999"),
    ("x-openstack-image-size", "-5"), ("Content-Type", "\u00ff"),
])
def test_hostile_upload_headers(images, header, value):
    image_id = new_image(images)
    if header == "Content-Length":
        answer = raw_request(images, (f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                                      f"Content-Length: {value}\r\n\r\nabc").encode())
        assert answer.startswith(b"HTTP/1.1 4"), answer[:300]
    else:
        response = requests.put(f"{images}/v2/images/{image_id}/stage" if header.startswith("x-") else f"{images}/v2/images/{image_id}/file",
                                data=b"abc", headers={"Content-Type": "application/octet-stream", header: value.encode("latin-1")})
        assert response.status_code < 500, response.text[:300]
    assert requests.get(f"{images}/v2/images/{image_id}").json()["status"] in ("queued", "active", "uploading")


def random_requests(seed, count, images, glare, auth=None):
    """Yields (method, url, headers, body) built from the classes above, with random values."""
    import random
    rng = random.Random(seed)
    numbers = ["0", "-1", "1e19", "1e400", "-1e300", "9223372036854775807", "9223372036854775808", "99999999999999999999",
               "1.5", "NaN", "Infinity", "0x10", "", " ", "+1", "00", "-0"]
    words = ["", ":", "::", ",", "%", "%%", "%zz", "%00", "+", "a+b", "~", "~2", "/", "//", "..", "名" * 300, "x" * 5000,
             "<script>", "'", "\"", "\\", "\u0000", "like:%a%a%a%b", "in:a,b", "gt:", "eq:", "and:or:", "latest", "null"]
    fields = ["limit", "marker", "sort", "sort_key", "sort_dir", "name", "status", "visibility", "tag", "tags", "tags-any",
              "size_min", "size_max", "created_at", "updated_at", "version", "int1", "str1", "bool1", "member_status",
              "os_hidden", "protected", "owner", "id", "dict_of_str.k", "list_of_str", "type_name"]
    def created(response):
        return response.json()["id"] if response.ok else "00000000-0000-0000-0000-000000000001"
    image_ids = [created(requests.post(f"{images}/v2/images", json={"name": "r", "disk_format": "raw", "container_format": "bare"},
                                       headers=auth or {}))]
    artifact_ids = [created(requests.post(f"{glare}/artifacts/sample_artifact", json={"name": "r-" + uuid.uuid4().hex},
                                          headers=auth or {}))]

    def value():
        return rng.choice([rng.choice(numbers), rng.choice(words), rng.choice(words) + ":" + rng.choice(numbers),
                           rng.choice(words) + rng.choice(numbers)])

    def query():
        pairs = [(rng.choice(fields), value()) for _ in range(rng.randint(0, 6))]
        return "&".join(f"{requests.utils.quote(k)}={requests.utils.quote(v, safe='%:,+')}" for k, v in pairs)

    def segment(kind):
        """An id of the kind the path wants most of the time, else a hostile value."""
        if kind != "v" and rng.random() < 0.85:
            return rng.choice(image_ids if kind == "i" else artifact_ids)
        return rng.choice([requests.utils.quote(value(), safe="%~"), "00000000-0000-0000-0000-000000000000"])

    def json_body():
        leaf = rng.choice(["null", "true", "1", "1e400", "-1e19", '"x"', '"' + "名" * 300 + '"', "[]", "{}", "1.5", '"\\ud800"'])
        key = rng.choice(["name", "version", "min_disk", "min_ram", "visibility", "tags", "int1", "str1", "", "id", "status",
                          "owner", "blob", "dict_of_str", "list_of_str", "x" * 300, "os_glance_x", "locations"])
        shapes = ['{"%s": %s}' % (key, leaf), '[{"op": "%s", "path": "/%s", "value": %s}]' % (
            rng.choice(["add", "replace", "remove", "move", "copy", "test", "x"]), key, leaf),
            '{"method": {"name": "web-download", "uri": "%s"}}' % rng.choice(
                ["https://192.0.2.1:99999/x", "http://localhost/x", "ftp://x", "https://[::1]/x", "not a url"]),
            '{"url": "https://192.0.2.1:%s/x"}' % rng.choice(numbers), "[" * rng.randint(1, 400), '{"a": 1,}', leaf]
        return rng.choice(shapes).encode()

    templates = [
        (images, ["/v2/images", "/v2/images/{i}", "/v2/images/{i}/file", "/v2/images/{i}/stage", "/v2/images/{i}/import",
                  "/v2/images/{i}/tags/{v}", "/v2/images/{i}/members", "/v2/images/{i}/members/{v}",
                  "/v2/images/{i}/actions/deactivate", "/v2/images/{i}/actions/reactivate", "/v2/images/{i}/tasks", "/v2/tasks/{v}",
                  "/v2/schemas/{v}", "/v2/metadefs/namespaces", "/v2/metadefs/namespaces/{v}", "/v2/cache/{i}", "/v2/info/usage",
                  "/v2.99/images", "/{v}", "/v2/{v}"]),
        (glare, ["/artifacts/{v}", "/artifacts/sample_artifact", "/artifacts/sample_artifact/{a}", "/artifacts/all",
                 "/artifacts/sample_artifact/{a}/blob", "/artifacts/sample_artifact/{a}/small_blob",
                 "/artifacts/sample_artifact/{a}/dict_of_blobs/{v}", "/schemas/{v}", "/quotas", "/project-quotas/{v}", "/{v}"]),
    ]
    for _ in range(count):
        root, paths = rng.choice(templates)
        path = rng.choice(paths)
        method = rng.choice(["GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
        if method == "DELETE" and path in ("/v2/images/{i}", "/artifacts/sample_artifact/{a}"):
            path = path.replace("{i}", "{v}").replace("{a}", "{v}")  # keep the ids the others use
        for kind in ("i", "a", "v"):
            while "{%s}" % kind in path:
                path = path.replace("{%s}" % kind, segment(kind), 1)
        q = query()
        headers = dict(auth or {})
        if rng.random() < 0.3:
            headers["Range"] = rng.choice(["bytes=", "bytes=0-", "bytes=-", "bytes="]) + rng.choice(numbers) + rng.choice(["", "-", "-" + rng.choice(numbers), ",0-1"])
        if rng.random() < 0.2:
            headers["Accept"] = rng.choice(["text/html", "application/json", "text/plain", "*/*"])
        body = None
        if method in ("POST", "PUT", "PATCH"):
            body = json_body() if rng.random() < 0.8 else bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
            headers["Content-Type"] = rng.choice(["application/json", "application/openstack-images-v2.1-json-patch",
                                                  "application/json-patch+json", "application/octet-stream",
                                                  "application/vnd+openstack.glare-custom-location+json", "text/plain"])
        yield method, root + path + ("?" + q if q else ""), headers, body


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_random_hostile_requests_never_get_a_5xx(images, glare, seed):
    """New inputs of the same classes, at random (seeded): every answer is below 500."""
    server_errors = []
    for method, url, headers, body in random_requests(seed, 600, images, glare):
        response = requests.request(method, url, headers=headers, data=body, timeout=30)
        if response.status_code >= 500:
            server_errors.append((method, url[:200], response.status_code, response.text[:200]))
    assert server_errors == []


@pytest.mark.slow
def test_random_hostile_requests_in_headers_mode(guarded, headers_target):
    glare = headers_target.artifacts_url
    server_errors = []
    for seed, (project, roles) in enumerate([("p1", "reader,member"), ("p2", "reader"), (None, "member"), ("p3", "admin")]):
        auth = {"X-Identity-Status": "Confirmed", "X-Roles": roles, "X-User-Id": "u"}
        if project:
            auth["X-Project-Id"] = project
        for method, url, headers, body in random_requests(10 + seed, 150, guarded, glare, auth=auth):
            response = requests.request(method, url, headers=headers, data=body, timeout=30)
            if response.status_code >= 500:
                server_errors.append((roles, method, url[:200], response.status_code, response.text[:200]))
    assert server_errors == []
