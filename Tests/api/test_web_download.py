"""The web-download import method with the real clients: the server fetches a URI from an origin
on loopback (allow-listed for these tests) into the store; the URI filter, failed fetches and the
image's tasks."""
import hashlib
import http.server
import os
import subprocess
import threading
import time

import pytest
import requests

from conftest import free_port, sdk_wait_active, start_server

DISK = os.urandom(5 * 1024 * 1024 + 17)


class Origin(http.server.BaseHTTPRequestHandler):
    """Serves DISK at /disk.img, a redirect to it, one to the metadata service, a 404, a slow body
    and one cut short."""

    def do_GET(self):
        if self.path == "/disk.img":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DISK)))
            self.end_headers()
            self.wfile.write(DISK)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/disk.img")
            self.end_headers()
        elif self.path == "/to-metadata":
            # A redirect from an allowed origin to the cloud metadata service.
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/slow":
            # 64 KiB every 50 ms: a fetch that is still running when the server is stopped.
            self.send_response(200)
            self.send_header("Content-Length", str(64 * 1024 * 400))
            self.end_headers()
            try:
                for _ in range(400):
                    self.wfile.write(DISK[: 64 * 1024])
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DISK)))
            self.end_headers()
            self.wfile.write(DISK[: len(DISK) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def origin():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Origin)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def allowing(origin):
    """The settings that let a server fetch from the origin: its host:port allow-listed, its port allowed."""
    port = origin.rsplit(":", 1)[1]
    return {"GRANARY_IMAGES_WEB_DOWNLOAD_ALLOWED_HOSTS": f"127.0.0.1:{port}",
            "GRANARY_IMAGES_WEB_DOWNLOAD_ALLOWED_PORTS": f"80,443,{port}"}


@pytest.fixture(scope="module")
def wd_server(origin):
    with start_server(env=allowing(origin)) as server:
        yield server.url


def wait_until(server, image_id, done, timeout=20):
    deadline = time.time() + timeout
    while True:
        image = requests.get(f"{server}/v2/images/{image_id}").json()
        if done(image) or time.time() > deadline:
            return image
        time.sleep(0.05)


def new_image(server, name):
    response = requests.post(f"{server}/v2/images", json={"name": name, "disk_format": "raw", "container_format": "bare"})
    assert response.status_code == 201
    assert "web-download" in response.headers["OpenStack-image-import-methods"].split(",")
    return response.json()["id"]


def import_uri(server, image_id, uri, **extra):
    body = {"method": {"name": "web-download", "uri": uri}, **extra}
    return requests.post(f"{server}/v2/images/{image_id}/import", json=body, headers={"Accept": "application/json"})


def test_glance_cli_web_download(wd_server, origin):
    out = subprocess.run(
        ["glance", "--os-image-url", wd_server, "--os-auth-token", "t", "image-create-via-import", "--name", "wd-cli",
         "--disk-format", "raw", "--container-format", "bare", "--import-method", "web-download", "--uri", f"{origin}/disk.img"],
        capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: os.close(0),  # no stdin at all: glance reads a piped one as image data
    )
    assert out.returncode == 0, out.stderr
    image_id = requests.get(f"{wd_server}/v2/images", params={"name": "wd-cli"}).json()["images"][0]["id"]
    image = wait_until(wd_server, image_id, lambda i: i["status"] == "active")
    assert image["status"] == "active"
    assert image["size"] == len(DISK)
    assert image["checksum"] == hashlib.md5(DISK).hexdigest()
    assert image["os_hash_algo"] == "sha512" and image["os_hash_value"] == hashlib.sha512(DISK).hexdigest()
    assert "os_glance_import_task" not in image
    assert requests.get(f"{wd_server}/v2/images/{image_id}/file").content == DISK
    tasks = requests.get(f"{wd_server}/v2/images/{image_id}/tasks").json()["tasks"]
    assert [t["status"] for t in tasks] == ["success"]
    assert tasks[0]["input"]["import_req"]["method"] == {"name": "web-download", "uri": f"{origin}/disk.img"}


def test_sdk_web_download_follows_redirects(wd_server, origin):
    import openstack
    sdk = openstack.connect(auth_type="none", auth={"endpoint": wd_server}, image_api_version="2")
    image = sdk.image.create_image(name="wd-sdk", disk_format="raw", container_format="bare")
    sdk.image.import_image(image, method="web-download", uri=f"{origin}/moved")
    image = sdk_wait_active(sdk, image.id)
    assert image.status == "active"
    assert image.hash_value == hashlib.sha512(DISK).hexdigest()
    assert sdk.image.download_image(image).content == DISK


def test_openstack_cli_image_import_web_download(wd_server, origin):
    from test_openstack_cli import osc
    image_id = new_image(wd_server, "wd-osc")
    # Without --disallow-failure the CLI sends all_stores_must_succeed=false, which a Glance
    # without multiple stores refuses with 400, and so does granary (the CLI exits 0 all the same).
    osc("image", "import", "--method", "web-download", "--uri", f"{origin}/disk.img", image_id, url=wd_server)
    assert requests.get(f"{wd_server}/v2/images/{image_id}/tasks").json() == {"tasks": []}
    assert requests.get(f"{wd_server}/v2/images/{image_id}").json()["status"] == "queued"
    osc("image", "import", "--method", "web-download", "--uri", f"{origin}/disk.img", "--disallow-failure", image_id, url=wd_server)
    image = wait_until(wd_server, image_id, lambda i: i["status"] == "active")
    assert image["status"] == "active" and image["os_hash_value"] == hashlib.sha512(DISK).hexdigest()


def test_failed_fetches_leave_the_image_queued(wd_server, origin):
    image_id = new_image(wd_server, "wd-fail")
    for path, reason in [("/missing", "404"), ("/cut", "stopped sending"), ("/to-metadata", "169.254.169.254")]:
        response = import_uri(wd_server, image_id, origin + path)
        assert response.status_code == 202, response.text
        image = wait_until(wd_server, image_id, lambda i: i["status"] != "importing")
        assert image["status"] == "queued" and image["size"] is None and "os_glance_import_task" not in image
        tasks = requests.get(f"{wd_server}/v2/images/{image_id}/tasks").json()["tasks"]
        [task] = [t for t in tasks if t["input"]["import_req"]["method"]["uri"] == origin + path]
        assert task["status"] == "failure" and reason in task["message"], task
        assert requests.get(f"{wd_server}/v2/images/{image_id}/file").status_code == 204
    # The failures left nothing behind: the same image imports fine afterwards.
    assert import_uri(wd_server, image_id, f"{origin}/disk.img").status_code == 202
    image = wait_until(wd_server, image_id, lambda i: i["status"] == "active")
    assert image["status"] == "active" and image["os_hash_value"] == hashlib.sha512(DISK).hexdigest()
    # An active image takes no import; its data stays as it was.
    assert import_uri(wd_server, image_id, f"{origin}/disk.img").status_code == 409
    assert requests.get(f"{wd_server}/v2/images/{image_id}/file").content == DISK


def test_the_uri_filter_answers_400_at_once(wd_server, server, origin):
    image_id = new_image(wd_server, "wd-filter")
    for uri in [
        "http://127.0.0.1:1/disk.img",  # a port not allowed
        "http://10.1.2.3/disk.img",  # a private address nobody allow-listed
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "ftp://example.com/disk.img",
        "http://user:secret@127.0.0.1/disk.img",
        "not a url",
    ]:
        response = import_uri(wd_server, image_id, uri)
        assert response.status_code == 400, (uri, response.text)
        assert "does not pass filtering" in response.json()["message"], response.text
    assert requests.post(f"{wd_server}/v2/images/{image_id}/import", json={"method": {"name": "web-download"}}).status_code == 400
    assert requests.get(f"{wd_server}/v2/images/{image_id}").json()["status"] == "queued"
    assert requests.get(f"{wd_server}/v2/images/{image_id}/tasks").json() == {"tasks": []}
    # With the default filter (ports 80 and 443, public addresses only) the origin is refused.
    default_id = new_image(server, "wd-default")
    assert import_uri(server, default_id, f"{origin}/disk.img").status_code == 400
    assert import_uri(server, default_id, "http://127.0.0.1/disk.img").status_code == 400


def test_web_download_can_be_switched_off(origin):
    with start_server(env={"GRANARY_IMAGES_IMPORT_METHODS": "glance-direct"}) as server:
        url = server.url
        info = requests.get(f"{url}/v2/info/import").json()
        assert info["import-methods"]["value"] == ["glance-direct"]
        image_id = requests.post(f"{url}/v2/images", json={"name": "off", "disk_format": "raw", "container_format": "bare"}).json()["id"]
        response = import_uri(url, image_id, f"{origin}/disk.img")
        assert response.status_code == 400 and "not enabled" in response.text


def test_sigterm_fails_a_running_web_download_cleanly(origin):
    server = start_server(env=allowing(origin))
    try:
        url = server.url
        image_id = new_image(url, "wd-stop")
        assert import_uri(url, image_id, f"{origin}/slow").status_code == 202
        time.sleep(0.5)  # bytes are arriving
        assert requests.get(f"{url}/v2/images/{image_id}").json()["status"] == "importing"
        server.stop(remove=False)
        # The import was failed before the process exited (a restart's recovery would say otherwise).
        server = start_server(env=allowing(origin), data=server.data)
        url = server.url
        image = requests.get(f"{url}/v2/images/{image_id}").json()
        assert image["status"] == "queued" and image["size"] is None and "os_glance_import_task" not in image
        [task] = requests.get(f"{url}/v2/images/{image_id}/tasks").json()["tasks"]
        assert task["status"] == "failure" and "server was stopped" in task["message"], task
        assert import_uri(url, image_id, f"{origin}/disk.img").status_code == 202
        image = wait_until(url, image_id, lambda i: i["status"] == "active")
        assert image["os_hash_value"] == hashlib.sha512(DISK).hexdigest()
    finally:
        server.stop()
