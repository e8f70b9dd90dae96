"""Index-served lists over HTTP (`--auth headers`): what each project sees, page by page through
`next`, follows shares, tag and name changes (the term indexes are updated with the records)."""
import uuid

import requests

from conftest import identity


def pages(server, project, query, roles="reader,member"):
    """Every image of a list, following `next` with two images a page."""
    seen, url = [], f"{server}/v2/images?{query}&limit=2"
    while url:
        r = requests.get(url, headers=identity(project, roles))
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["images"]
        url = server + body["next"] if "next" in body else None
    return seen


def newest_first(images):
    return [i["id"] for i in sorted(images, key=lambda i: (i["created_at"], i["id"]), reverse=True)]


def test_each_project_pages_through_what_it_may_see(project_client, headers_server):
    tag = "t-" + uuid.uuid4().hex[:8]
    owner = "own-" + tag
    alice, bob = project_client(owner), project_client("bob-" + tag)
    ops = project_client("ops-" + tag, "admin,reader,member")
    made = {}
    for visibility, count in [("shared", 4), ("private", 2), ("community", 1)]:
        for n in range(count):
            image = alice.images.create(name=f"{tag}-{visibility}-{n}", visibility=visibility, tags=[tag],
                                        disk_format="raw", container_format="bare")
            made[image["name"]] = image
    public = ops.images.create(name=f"{tag}-public", visibility="public", tags=[tag], disk_format="raw", container_format="bare")
    made[public["name"]] = public
    shared = [made[f"{tag}-shared-{n}"] for n in range(4)]
    for image in shared[:3]:
        alice.image_members.create(image["id"], "bob-" + tag)
    for image in shared[:2]:
        bob.image_members.update(image["id"], "bob-" + tag, "accepted")

    everything = list(made.values())
    assert [i["id"] for i in pages(headers_server, owner, f"tag={tag}")] == newest_first(everything)
    assert [i["id"] for i in pages(headers_server, "bob-" + tag, f"tag={tag}")] == newest_first([public] + shared[:2])
    default = pages(headers_server, "bob-" + tag, "sort_key=created_at&sort_dir=desc")
    assert [i["id"] for i in default] == newest_first(default)
    assert {i["id"] for i in [public] + shared[:2]} <= {i["id"] for i in default}
    hidden = {i["id"] for i in [shared[2], shared[3]] + [i for i in everything if i["visibility"] in ("private", "community")]}
    assert not hidden & {i["id"] for i in default}
    assert [i["id"] for i in pages(headers_server, "bob-" + tag, f"tag={tag}&visibility=shared&member_status=pending")] == \
        [shared[2]["id"]]
    community = pages(headers_server, "bob-" + tag, f"tag={tag}&visibility=community")
    assert [i["id"] for i in community] == [made[f"{tag}-community-0"]["id"]]
    # Admins see other projects' private and shared images (their community ones only when asked
    # for), oldest first too.
    ascending = pages(headers_server, "ops-" + tag, f"tag={tag}&sort_key=created_at&sort_dir=asc", "admin,reader,member")
    assert [i["id"] for i in ascending] == list(reversed(newest_first([i for i in everything if i["visibility"] != "community"])))

    # Changes move the entries: a removed tag, a new name, a revoked share.
    alice.image_tags.delete(shared[0]["id"], tag)
    alice.images.update(shared[1]["id"], name=f"{tag}-renamed")
    alice.image_members.delete(shared[1]["id"], "bob-" + tag)
    assert [i["id"] for i in pages(headers_server, "bob-" + tag, f"tag={tag}")] == [public["id"]]
    assert [i["id"] for i in pages(headers_server, owner, f"name={tag}-renamed")] == [shared[1]["id"]]
    assert pages(headers_server, owner, f"name={tag}-shared-1") == []
    ops.images.delete(public["id"])
    assert pages(headers_server, "bob-" + tag, f"tag={tag}") == []
