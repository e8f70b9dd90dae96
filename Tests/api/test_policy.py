"""Visibility, ownership, members and roles across projects (`--auth headers`), per Glance's rules."""
import io

import pytest
import requests
from glanceclient import exc

from conftest import identity


def test_unconfirmed_identity_is_401(headers_server):
    r = requests.get(f"{headers_server}/v2/images")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401


def test_private_images_stay_private(project_client):
    alice, bob = project_client("alice"), project_client("bob")
    image = alice.images.create(name="secret", visibility="private", disk_format="raw", container_format="bare")
    assert image["owner"] == "alice"
    alice.images.upload(image["id"], io.BytesIO(b"top secret"))
    with pytest.raises(exc.HTTPNotFound):
        bob.images.get(image["id"])
    assert image["id"] not in [i["id"] for i in bob.images.list()]
    with pytest.raises(exc.HTTPNotFound):
        bob.images.delete(image["id"])
    with pytest.raises(exc.HTTPNotFound):
        bob.images.update(image["id"], name="mine")
    with pytest.raises(exc.HTTPNotFound):
        b"".join(bob.images.data(image["id"]))
    assert alice.images.get(image["id"])["name"] == "secret"


def test_public_images_are_readable_but_not_writable(project_client, headers_server):
    admin, bob = project_client("ops", "admin,reader,member"), project_client("bob")
    image = admin.images.create(name="ubuntu", visibility="public", disk_format="raw", container_format="bare")
    admin.images.upload(image["id"], io.BytesIO(b"distro bits"))
    assert bob.images.get(image["id"])["name"] == "ubuntu"
    assert b"".join(bob.images.data(image["id"])) == b"distro bits"
    r = requests.delete(f"{headers_server}/v2/images/{image['id']}", headers=identity("bob"))
    assert r.status_code == 403  # visible but not owned
    with pytest.raises(exc.HTTPForbidden):
        bob.images.create(name="mine", visibility="public")  # publicize_image is admin-only


def test_roles(project_client):
    reader = project_client("carol", "reader")
    with pytest.raises(exc.HTTPForbidden):
        reader.images.create(name="nope")
    assert isinstance(list(reader.images.list()), list)
    nobody = project_client("dave", "")
    with pytest.raises(exc.HTTPForbidden):
        list(nobody.images.list())


def test_members_flow(project_client):
    alice, bob, eve = project_client("alice"), project_client("bob"), project_client("eve")
    image = alice.images.create(name="shared-img", disk_format="raw", container_format="bare")
    assert image["visibility"] == "shared"
    member = alice.image_members.create(image["id"], "bob")
    assert member["status"] == "pending"
    with pytest.raises(exc.HTTPConflict):
        alice.image_members.create(image["id"], "bob")
    # A pending member can read the image by id but does not list it by default.
    assert bob.images.get(image["id"])["name"] == "shared-img"
    assert image["id"] not in [i["id"] for i in bob.images.list()]
    # The owner may not answer for the member.
    with pytest.raises(exc.HTTPForbidden):
        alice.image_members.update(image["id"], "bob", "accepted")
    bob.image_members.update(image["id"], "bob", "accepted")
    assert image["id"] in [i["id"] for i in bob.images.list()]
    # Members see only their own entry; the owner sees all; outsiders see nothing.
    alice.image_members.create(image["id"], "frank")
    assert sorted(m["member_id"] for m in alice.image_members.list(image["id"])) == ["bob", "frank"]
    assert [m["member_id"] for m in bob.image_members.list(image["id"])] == ["bob"]
    with pytest.raises(exc.HTTPNotFound):
        list(eve.image_members.list(image["id"]))
    # Only the owner removes members; then the image is gone for bob.
    with pytest.raises(exc.HTTPForbidden):
        bob.image_members.delete(image["id"], "frank")
    alice.image_members.delete(image["id"], "bob")
    with pytest.raises(exc.HTTPNotFound):
        bob.images.get(image["id"])


def test_only_shared_images_have_members(project_client):
    alice = project_client("alice")
    image = alice.images.create(name="p", visibility="private")
    with pytest.raises(exc.HTTPForbidden):
        alice.image_members.create(image["id"], "bob")
