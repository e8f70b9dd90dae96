"""Keystone auth mode against a real Keystone from PyPI on loopback (tools/keystone-peer): tokens
are validated with the service's credentials, projects and roles come from Keystone, and the
real clients find granary through Keystone's catalog."""
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import ROOT, free_port, start_server

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def admin_token(root, project="admin", user="admin", password="secret"):
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
                     "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    response = requests.post(f"{root}/auth/tokens", json=auth)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"], response.json()["token"]


@pytest.fixture(scope="module")
def keystone():
    """Keystone, granary in keystone mode listed in its catalog, and two member users."""
    work = tempfile.mkdtemp(prefix="granary-keystone-")
    kport, gport = free_port(), free_port()
    pid = int(subprocess.run([str(ROOT / "tools" / "keystone-peer"), "start", work, str(kport)],
                             check=True, capture_output=True, text=True).stdout.split()[-1])
    root = f"http://127.0.0.1:{kport}/v3"
    server = None
    try:
        subprocess.run([str(ROOT / "tools" / "keystone-peer"), "image-endpoint", str(kport), f"http://127.0.0.1:{gport}"], check=True)
        token, _ = admin_token(root)
        headers = {"X-Auth-Token": token}
        roles = {r["name"]: r["id"] for r in requests.get(f"{root}/roles", headers=headers).json()["roles"]}
        users = {}
        for name in ("alice", "bob"):
            project = requests.post(f"{root}/projects", headers=headers, json={"project": {"name": "p-" + name, "domain_id": "default"}}).json()["project"]
            user = requests.post(f"{root}/users", headers=headers,
                                 json={"user": {"name": name, "password": "pw-" + name, "domain_id": "default"}}).json()["user"]
            assert requests.put(f"{root}/projects/{project['id']}/users/{user['id']}/roles/{roles['member']}", headers=headers).status_code == 204
            users[name] = {"project": project["id"], "token": admin_token(root, "p-" + name, name, "pw-" + name)[0]}
        env = {"GRANARY_KEYSTONE_USERNAME": "admin", "GRANARY_KEYSTONE_PASSWORD": "secret", "GRANARY_KEYSTONE_PROJECT": "admin"}
        server = start_server("--auth", "keystone", "--keystone-url", root, env=env, port=gport)
        yield {"root": root, "url": server.url, "artifacts": server.artifacts_url, "admin": token, "users": users, "env": env}
    finally:
        if server:
            server.stop()
        os.kill(pid, signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)


def test_tokens_are_validated_by_keystone(keystone):
    url = keystone["url"]
    missing = requests.get(f"{url}/v2/images")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == f'Keystone uri="{keystone["root"]}"'
    assert requests.get(f"{url}/v2/images", headers={"X-Auth-Token": "not-a-token"}).status_code == 401
    # Discovery needs no token, as in Glance.
    assert requests.get(f"{url}/versions").status_code == 200
    assert requests.get(f"{url}/v2/images", headers={"X-Auth-Token": keystone["admin"]}).status_code == 200


def test_projects_and_roles_come_from_the_token(keystone):
    url, alice, bob = keystone["url"], keystone["users"]["alice"], keystone["users"]["bob"]
    as_alice, as_bob = {"X-Auth-Token": alice["token"]}, {"X-Auth-Token": bob["token"]}
    created = requests.post(f"{url}/v2/images", headers=as_alice, json={"name": "alice-private", "visibility": "private"})
    assert created.status_code == 201, created.text
    image = created.json()
    assert image["owner"] == alice["project"]
    # Another project neither sees nor changes it; the admin does.
    assert requests.get(f"{url}/v2/images/{image['id']}", headers=as_bob).status_code == 404
    assert requests.delete(f"{url}/v2/images/{image['id']}", headers=as_bob).status_code == 404
    assert all(i["id"] != image["id"] for i in requests.get(f"{url}/v2/images", headers=as_bob).json()["images"])
    assert requests.get(f"{url}/v2/images/{image['id']}", headers={"X-Auth-Token": keystone["admin"]}).status_code == 200
    # A member may not publicize (admin only).
    patch = requests.patch(f"{url}/v2/images/{image['id']}", headers={**as_alice, "Content-Type": "application/openstack-images-v2.1-json-patch"},
                           json=[{"op": "replace", "path": "/visibility", "value": "public"}])
    assert patch.status_code == 403


def test_real_clients_find_granary_in_the_catalog(keystone, tmp_path):
    import openstack
    sdk = openstack.connect(auth_url=keystone["root"], username="alice", password="pw-alice", project_name="p-alice",
                            user_domain_name="Default", project_domain_name="Default", region_name="RegionOne")
    data = os.urandom(1 << 20)
    image = sdk.image.create_image(name="via-catalog", disk_format="raw", container_format="bare", data=data)
    image = sdk.image.get_image(image.id)
    assert image.owner == keystone["users"]["alice"]["project"]
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    assert sdk.image.download_image(image).content == data

    out = subprocess.run(
        ["glance", "--os-auth-url", keystone["root"], "--os-username", "alice", "--os-password", "pw-alice",
         "--os-project-name", "p-alice", "--os-user-domain-name", "Default", "--os-project-domain-name", "Default",
         "image-list"], capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert image.id in out.stdout


def test_openstack_cli_shares_an_image_across_projects(keystone, tmp_path):
    """The `openstack` CLI with passwords: alice shares an image with bob's project, bob accepts
    it, sees and downloads it, and may not delete it."""
    from test_openstack_cli import osc, osc_json

    def as_user(name):
        return {"OS_AUTH_URL": keystone["root"], "OS_USERNAME": name, "OS_PASSWORD": "pw-" + name, "OS_PROJECT_NAME": "p-" + name,
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_IDENTITY_API_VERSION": "3",
                "OS_REGION_NAME": "RegionOne", "HOME": str(tmp_path)}
    alice, bob = as_user("alice"), as_user("bob")
    bob_project = keystone["users"]["bob"]["project"]
    source = tmp_path / "shared.raw"
    content = os.urandom(1_500_000)
    source.write_bytes(content)
    image = osc_json("image", "create", "--disk-format", "raw", "--container-format", "bare", "--shared", "--file", str(source),
                     "osc-shared", env=alice)
    assert image["owner"] == keystone["users"]["alice"]["project"] and image["visibility"] == "shared"
    assert all(i["ID"] != image["id"] for i in osc_json("image", "list", "--shared", env=bob))

    osc("image", "add", "project", image["id"], bob_project, env=alice)
    members = osc_json("image", "member", "list", image["id"], env=alice)
    assert [(m["Member ID"], m["Status"]) for m in members] == [(bob_project, "pending")]
    osc("image", "set", "--accept", image["id"], env=bob)
    assert [m["Status"] for m in osc_json("image", "member", "list", image["id"], env=alice)] == ["accepted"]
    assert image["id"] in [i["ID"] for i in osc_json("image", "list", "--shared", env=bob)]
    target = tmp_path / "bob.raw"
    osc("image", "save", "--file", str(target), image["id"], env=bob)
    assert target.read_bytes() == content
    refused = osc("image", "delete", image["id"], env=bob, check=False)
    assert refused.returncode == 1 and "403" in refused.stderr

    osc("image", "remove", "project", image["id"], bob_project, env=alice)
    assert osc("image", "show", image["id"], env=bob, check=False).returncode == 1
    osc("image", "delete", image["id"], env=alice)


def test_glance_download_copies_an_image_from_the_region_in_the_catalog(keystone):
    """glance-download as tempest runs it: the source is an image of this same region, found through
    the caller's Keystone catalog and read with the caller's token."""
    url = keystone["url"]
    headers = {"X-Auth-Token": keystone["users"]["alice"]["token"]}
    assert "glance-download" in requests.get(f"{url}/v2/info/import", headers=headers).json()["import-methods"]["value"]

    def create(**body):
        response = requests.post(f"{url}/v2/images", headers=headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def start(image_id, **method):
        return requests.post(f"{url}/v2/images/{image_id}/import", headers=headers,
                             json={"method": {"name": "glance-download", "glance_service_interface": "public", **method}})

    def ended(image_id, count=1):
        """The image's tasks once all `count` of them have ended, and the image then."""
        deadline = time.time() + 20
        while time.time() < deadline:
            tasks = requests.get(f"{url}/v2/images/{image_id}/tasks", headers=headers).json()["tasks"]
            if len(tasks) == count and all(t["status"] in ("success", "failure") for t in tasks):
                return tasks, requests.get(f"{url}/v2/images/{image_id}", headers=headers).json()
            time.sleep(0.05)
        raise AssertionError("the import did not end")

    data = os.urandom(3 * 1024 * 1024)
    source = create(name="src", disk_format="raw", container_format="bare", hw_cpu_cores="5", os_distro="rhel", speed="88mph")
    assert requests.put(f"{url}/v2/images/{source}/file", data=data,
                        headers={**headers, "Content-Type": "application/octet-stream"}).status_code == 204
    target = create(name="dst", disk_format="iso", container_format="ovf", hw_cpu_cores="1", os_distro="windows")
    assert start(target, glance_image_id=source, glance_region="RegionOne").status_code == 202
    [task], image = ended(target)
    assert task["status"] == "success", task
    assert image["status"] == "active" and image["disk_format"] == "raw" and image["container_format"] == "bare"
    assert image["hw_cpu_cores"] == "5" and image["os_distro"] == "rhel" and "speed" not in image
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert requests.get(f"{url}/v2/images/{target}/file", headers=headers).content == data

    # Refused at once: an id that is not a UUID, no region.
    other = create(name="dst2", disk_format="raw", container_format="bare", os_distro="windows")
    response = start(other, glance_image_id="foo", glance_region="RegionOne")
    assert response.status_code == 400 and "does not look like a UUID" in response.text
    assert start(other, glance_image_id=source).status_code == 400
    # Failing in the background: a region not in the catalog, an image not there. The image
    # goes back to queued with its properties as they were.
    empty = create(name="no-data", disk_format="raw", container_format="bare")  # queued: nothing to copy
    for count, method in enumerate([{"glance_image_id": source, "glance_region": "not a region"},
                                    {"glance_image_id": "36d4b546-64a2-4bb9-bdd0-ba676aa48f2c", "glance_region": "RegionOne"},
                                    {"glance_image_id": empty, "glance_region": "RegionOne"}], 1):
        assert start(other, **method).status_code == 202
        tasks, image = ended(other, count)
        assert all(t["status"] == "failure" for t in tasks), tasks
        assert image["status"] == "queued" and image["os_distro"] == "windows" and image["size"] is None
    tasks = requests.get(f"{url}/v2/images/{other}/tasks", headers=headers).json()["tasks"]
    [inactive] = [t for t in tasks if t["input"]["import_req"]["method"]["glance_image_id"] == empty]
    assert inactive["status"] == "failure" and "is not active" in inactive["message"], inactive


def test_glance_download_with_a_keystone_url_without_v3(keystone):
    """`--keystone-url http://HOST:PORT` (no /v3) works as `…/v3` does, for token validation and for
    glance-download's catalog lookup: this second node copies an image from the first, the region's
    endpoint in the catalog."""
    headers = {"X-Auth-Token": keystone["users"]["alice"]["token"]}
    data = os.urandom(1024 * 1024)
    source = requests.post(f"{keystone['url']}/v2/images", headers=headers, json={"name": "src", "disk_format": "raw", "container_format": "bare"})
    assert source.status_code == 201, source.text
    source = source.json()["id"]
    assert requests.put(f"{keystone['url']}/v2/images/{source}/file", data=data,
                        headers={**headers, "Content-Type": "application/octet-stream"}).status_code == 204
    with start_server("--auth", "keystone", "--keystone-url", keystone["root"].removesuffix("/v3"), env=keystone["env"]) as other:
        target = requests.post(f"{other.url}/v2/images", headers=headers, json={"name": "dst", "disk_format": "raw", "container_format": "bare"})
        assert target.status_code == 201, target.text
        target = target.json()["id"]
        method = {"name": "glance-download", "glance_image_id": source, "glance_region": "RegionOne", "glance_service_interface": "public"}
        assert requests.post(f"{other.url}/v2/images/{target}/import", headers=headers, json={"method": method}).status_code == 202
        deadline = time.time() + 20
        while (image := requests.get(f"{other.url}/v2/images/{target}", headers=headers).json())["status"] == "importing":
            assert time.time() < deadline, "the import did not end"
            time.sleep(0.05)
        tasks = requests.get(f"{other.url}/v2/images/{target}/tasks", headers=headers).json()["tasks"]
        assert image["status"] == "active", tasks
        assert requests.get(f"{other.url}/v2/images/{target}/file", headers=headers).content == data


def test_hostile_tokens_and_domain_scoped_callers(keystone):
    """Keystone mode under hostile input: odd tokens are a 401 (never a 5xx); a domain-scoped
    token (no project) may read but not write, in both APIs."""
    url, root = keystone["url"], keystone["root"]
    for token in ["x" * 20000, "%00", "a\tb", "../../v3/users", "' OR 1=1 --", keystone["admin"] + "x", "é".encode().decode("latin-1")]:
        response = requests.get(f"{url}/v2/images", headers={"X-Auth-Token": token})
        assert response.status_code in (400, 401, 431), (token[:40], response.status_code, response.text[:200])
    headers = {"X-Auth-Token": keystone["admin"]}
    alice = requests.get(f"{root}/users?name=alice", headers=headers).json()["users"][0]
    member = [r["id"] for r in requests.get(f"{root}/roles", headers=headers).json()["roles"] if r["name"] == "member"][0]
    assert requests.put(f"{root}/domains/default/users/{alice['id']}/roles/{member}", headers=headers).status_code == 204
    scoped = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice", "domain": {"name": "Default"},
                                                                                    "password": "pw-alice"}}},
                       "scope": {"domain": {"name": "Default"}}}}
    response = requests.post(f"{root}/auth/tokens", json=scoped)
    assert response.status_code == 201, response.text
    assert "project" not in response.json()["token"] and "domain" in response.json()["token"]
    domain = {"X-Auth-Token": response.headers["X-Subject-Token"], "Accept": "application/json"}
    assert requests.get(f"{url}/v2/images", headers=domain).status_code == 200
    refused = requests.post(f"{url}/v2/images", json={"name": "domain-owned"}, headers=domain)
    assert refused.status_code == 403 and refused.json()["code"].startswith("403"), refused.text
    artifacts = keystone["artifacts"]
    refused = requests.post(f"{artifacts}/artifacts/sample_artifact", json={"name": "domain-owned"}, headers=domain)
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "Forbidden", refused.text
    assert all(i["name"] != "domain-owned" for i in requests.get(f"{url}/v2/images", headers=headers).json()["images"])
