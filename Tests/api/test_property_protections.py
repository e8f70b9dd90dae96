"""Property protections (`images.property_protection_file`, Glance's roles format) through the real
glanceclient, with callers from keystonemiddleware-style headers."""
import os
import tempfile

import pytest
import requests
from glanceclient import Client, exc

from conftest import identity, start_server

RULES = """
[^x_billing_]
create = admin
read = admin,member
update = admin
delete = admin

[^x_]
create = @
read = @
update = @
delete = @

[.*]
create = admin
read = admin
update = admin
delete = admin
"""


@pytest.fixture(scope="module")
def protected_server():
    rules = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    rules.write(RULES)
    rules.close()
    with start_server("--auth", "headers", env={"GRANARY_IMAGES_PROPERTY_PROTECTION_FILE": rules.name}) as server:
        yield server.url
    os.unlink(rules.name)


def client(url, roles):
    return Client("2", endpoint=url, token="t", identity_headers=identity("acme", roles))


def test_protected_properties(protected_server):
    admin, member, reader = (client(protected_server, r) for r in ("admin,member,reader", "member,reader", "reader"))
    image = admin.images.create(name="base", disk_format="raw", container_format="bare",
                                x_billing_code="b-17", x_note="hello", site_code="k-1")
    assert image["x_billing_code"] == "b-17" and image["site_code"] == "k-1"

    # Each caller sees only what its roles may read: site_code is admin's, billing needs member.
    shown = member.images.get(image["id"])
    assert shown["x_billing_code"] == "b-17" and shown["x_note"] == "hello" and "site_code" not in shown
    seen = reader.images.get(image["id"])
    assert "x_billing_code" not in seen and "site_code" not in seen and seen["x_note"] == "hello"
    listed = [i for i in member.images.list() if i["id"] == image["id"]]
    assert len(listed) == 1 and "site_code" not in listed[0]
    # Filtering on a property one may not read finds nothing: its values cannot be probed.
    assert [i["id"] for i in admin.images.list(filters={"site_code": "k-1"})] == [image["id"]]
    assert list(member.images.list(filters={"site_code": "k-1"})) == []

    # A member may change x_note but not the billing code, nor create an admin-only property.
    assert member.images.update(image["id"], x_note="bye")["x_note"] == "bye"
    with pytest.raises(exc.HTTPForbidden):
        member.images.update(image["id"], x_billing_code="b-99")
    with pytest.raises(exc.HTTPForbidden):
        member.images.create(name="other", site_zone="z-1")
    with pytest.raises(exc.HTTPForbidden):
        member.images.update(image["id"], remove_props=["x_billing_code"])

    # The raw answer is Glance's 403 body; nothing stored changed.
    r = requests.patch(f"{protected_server}/v2/images/{image['id']}", headers={
        **identity("acme", "member,reader"), "Content-Type": "application/openstack-images-v2.1-json-patch"},
        json=[{"op": "replace", "path": "/x_billing_code", "value": "b-99"}])
    assert r.status_code == 403 and "x_billing_code" in r.text
    stored = admin.images.get(image["id"])
    assert (stored["x_billing_code"], stored["site_code"], stored["x_note"]) == ("b-17", "k-1", "bye")


def test_a_bad_rules_file_stops_the_server():
    rules = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    rules.write("[x_(]\nread = @\n")
    rules.close()
    with pytest.raises(RuntimeError, match="not a valid regular expression"):
        start_server(env={"GRANARY_IMAGES_PROPERTY_PROTECTION_FILE": rules.name})
    os.unlink(rules.name)
