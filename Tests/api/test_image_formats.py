"""Format inspection of uploads (Glance's require_image_format_match) with real images made by
qemu-img: each format is recognised with its virtual size, content that is not what disk_format
says, or that points at other files, is refused with 415 and leaves the image queued."""
import json
import os
import subprocess

import requests

MIB = 1024 * 1024


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def make(tmp_path, fmt, name=None, options=()):
    path = tmp_path / (name or f"disk.{fmt}")
    qemu_img("create", "-q", "-f", fmt, *options, str(path), "64M")
    return path


def virtual_size(path):
    out = subprocess.run(["qemu-img", "info", "--output", "json", str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["virtual-size"]


def create(server, disk_format, container_format="bare"):
    response = requests.post(f"{server}/v2/images", json={"name": "fmt", "disk_format": disk_format, "container_format": container_format})
    assert response.status_code == 201
    return response.json()["id"]


def put(server, image_id, data, path="file"):
    return requests.put(f"{server}/v2/images/{image_id}/{path}", data=data,
                        headers={"Content-Type": "application/octet-stream", "Accept": "application/json"})


def test_real_images_are_recognised_with_their_virtual_size(server, tmp_path):
    for qemu_format, disk_format in [("qcow2", "qcow2"), ("vmdk", "vmdk"), ("vpc", "vhd"), ("vhdx", "vhdx"), ("vdi", "vdi")]:
        path = make(tmp_path, qemu_format)
        image_id = create(server, disk_format)
        response = put(server, image_id, path.read_bytes())
        assert response.status_code == 204, (disk_format, response.text)
        image = requests.get(f"{server}/v2/images/{image_id}").json()
        assert image["status"] == "active" and image["size"] == path.stat().st_size
        # VHDX keeps its virtual size in a metadata region past the inspected head.
        assert image["virtual_size"] == (None if disk_format == "vhdx" else virtual_size(path)), disk_format
    # A streamOptimized VMDK (what OVA exports hold) passes too.
    stream = tmp_path / "stream.vmdk"
    qemu_img("convert", "-O", "vmdk", "-o", "subformat=streamOptimized", str(make(tmp_path, "qcow2", "src.qcow2")), str(stream))
    image_id = create(server, "vmdk")
    assert put(server, image_id, stream.read_bytes()).status_code == 204
    assert requests.get(f"{server}/v2/images/{image_id}").json()["virtual_size"] == 64 * MIB


def test_glance_cli_upload_of_a_qcow2_sets_its_virtual_size(server, tmp_path):
    path = make(tmp_path, "qcow2")
    out = subprocess.run(
        ["glance", "--os-image-url", server, "--os-auth-token", "t", "image-create", "--name", "cli-qcow2",
         "--disk-format", "qcow2", "--container-format", "bare", "--file", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    [image] = requests.get(f"{server}/v2/images", params={"name": "cli-qcow2"}).json()["images"]
    assert image["status"] == "active" and image["virtual_size"] == 64 * MIB


def test_mismatched_or_unsafe_content_is_refused(server, tmp_path):
    base = make(tmp_path, "qcow2", "base.qcow2")
    overlay = make(tmp_path, "qcow2", "overlay.qcow2", ["-b", str(base), "-F", "qcow2"])
    flat = make(tmp_path, "vmdk", "flat.vmdk", ["-o", "subformat=monolithicFlat"])  # a descriptor naming flat-flat.vmdk
    cases = [
        ("qcow2", os.urandom(MIB), "does not match disk_format qcow2"),
        ("vmdk", base.read_bytes(), "the data is qcow2"),
        ("qcow2", overlay.read_bytes(), "backing file"),
        ("vmdk", flat.read_bytes(), "does not match disk_format vmdk"),
        ("ami", base.read_bytes(), "not disk_format ami"),
    ]
    for disk_format, data, reason in cases:
        image_id = create(server, disk_format)
        response = put(server, image_id, data)
        assert response.status_code == 415, (disk_format, reason, response.text)
        assert reason in response.json()["message"], response.text
        image = requests.get(f"{server}/v2/images/{image_id}").json()
        assert image["status"] == "queued" and image["size"] is None and image["checksum"] is None
        assert requests.get(f"{server}/v2/images/{image_id}/file").status_code == 204
        # The same check holds for staged data (interoperable import).
        response = put(server, image_id, data, path="stage")
        assert response.status_code == 415, response.text
        assert requests.get(f"{server}/v2/images/{image_id}").json()["status"] == "queued"
    # What Glance lets through: a qcow2 declared raw (taken as bytes), anything in another container.
    image_id = create(server, "raw")
    assert put(server, image_id, overlay.read_bytes()).status_code == 204
    assert requests.get(f"{server}/v2/images/{image_id}").json()["virtual_size"] == overlay.stat().st_size
    image_id = create(server, "qcow2", container_format="ovf")
    assert put(server, image_id, os.urandom(4096)).status_code == 204
