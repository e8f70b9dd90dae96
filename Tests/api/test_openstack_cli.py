"""The `openstack` CLI (python-openstackclient from PyPI, which drives images through
openstacksdk) against granary: with `--os-auth-type none` and an endpoint, and (in
test_keystone.py) with passwords through a real Keystone."""
import hashlib
import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = [pytest.mark.slow]

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


def osc(*args, url=None, env=None, check=True):
    """Runs `openstack ARGS`; with `url`, as an unauthenticated client of that endpoint."""
    command = [OPENSTACK, *(["--os-auth-type", "none", "--os-endpoint", url] if url else []), *args]
    # stdin is empty: `image create` without --file uploads what stdin holds when it is no tty.
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env={**os.environ, **(env or {})},
                            timeout=120)
    if check:
        assert result.returncode == 0, f"{' '.join(args)}: {result.stderr}"
    return result


def osc_json(*args, **kwargs):
    return json.loads(osc(*args, "-f", "json", **kwargs).stdout)


def test_image_lifecycle_through_the_openstack_cli(server, tmp_path):
    # The session's server holds other tests' images: this test's tag and property are its own.
    tag, distro = f"cli-{uuid.uuid4().hex[:8]}", f"distro-{uuid.uuid4().hex[:8]}"
    content = os.urandom(3_000_000)
    source = tmp_path / "image.raw"
    source.write_bytes(content)
    created = osc_json("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(source),
                       "--property", f"os_distro={distro}", "--tag", tag, "osc-image", url=server)
    image = created["id"]
    assert created["status"] == "active" and created["size"] == len(content)
    assert created["checksum"] == hashlib.md5(content).hexdigest()
    assert created["properties"]["os_hash_value"] == hashlib.sha512(content).hexdigest()
    assert created["visibility"] == "shared" and created["tags"] == [tag]

    # Filters and limit of `image list` reach the server's list; the CLI sorts what it got itself
    # (it sends no sort parameter), so --sort with --limit sorts only the page.
    other = osc_json("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--tag", tag, "--private",
                     "osc-other", url=server)
    assert other["status"] == "active" and other["size"] == 0  # the empty stdin, as Glance takes it
    listed = osc_json("image", "list", "--tag", tag, "--sort", "name:asc", url=server)
    assert [i["Name"] for i in listed] == ["osc-image", "osc-other"]
    assert [i["Name"] for i in osc_json("image", "list", "--tag", tag, "--sort", "name:desc", url=server)] == ["osc-other", "osc-image"]
    assert len(osc_json("image", "list", "--tag", tag, "--limit", "1", url=server)) == 1
    assert [i["ID"] for i in osc_json("image", "list", "--property", f"os_distro={distro}", url=server)] == [image]
    assert [i["Name"] for i in osc_json("image", "list", "--tag", tag, "--private", url=server)] == ["osc-other"]
    assert [i["Name"] for i in osc_json("image", "list", "--tag", tag, "--status", "queued", url=server)] == []

    # set / unset: name, properties, tags, min_disk, protection.
    osc("image", "set", "--name", "osc-renamed", "--property", "color=blue", "--tag", "cli-b", "--min-disk", "2", "--protected",
        image, url=server)
    shown = osc_json("image", "show", image, url=server)
    assert shown["name"] == "osc-renamed" and shown["min_disk"] == 2 and shown["protected"] is True
    assert shown["properties"]["color"] == "blue" and sorted(shown["tags"]) == sorted([tag, "cli-b"])
    refused = osc("image", "delete", image, url=server, check=False)
    assert refused.returncode == 1 and "403" in refused.stderr and "protected" in refused.stderr
    osc("image", "unset", "--property", "color", "--tag", "cli-b", image, url=server)
    osc("image", "set", "--unprotected", image, url=server)
    shown = osc_json("image", "show", image, url=server)
    assert "color" not in shown["properties"] and shown["tags"] == [tag] and shown["protected"] is False

    # Deactivate and reactivate; the data comes back whole.
    osc("image", "set", "--deactivate", image, url=server)
    assert osc_json("image", "show", image, url=server)["status"] == "deactivated"
    osc("image", "set", "--activate", image, url=server)
    target = tmp_path / "saved.raw"
    osc("image", "save", "--file", str(target), image, url=server)
    assert target.read_bytes() == content

    osc("image", "delete", image, other["id"], url=server)
    missing = osc("image", "show", image, url=server, check=False)
    assert missing.returncode == 1 and "No Image found" in missing.stderr
