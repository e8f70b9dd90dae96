"""GET /v2/images filters, sorts and pages (Glance: glance/api/v2/images.py, `RequestDeserializer.index`), through glanceclient and raw HTTP."""
import io
import uuid

import requests


def make(glance, run, name, size=None, **props):
    image = glance.images.create(name=f"{run}-{name}", disk_format="raw", container_format="bare", **props)
    if size is not None:
        glance.images.upload(image["id"], io.BytesIO(b"x" * size))
    return image["id"]


def names(server, query):
    r = requests.get(f"{server}/v2/images?{query}")
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["images"]]


def test_filters_and_sorts(glance, server):
    run = uuid.uuid4().hex[:8]
    make(glance, run, "b", size=300, tags=["red", "big"], os_distro="debian")
    make(glance, run, "a", size=100, tags=["red"], os_distro="ubuntu")
    make(glance, run, "c", tags=["blue"])
    make(glance, run, "hidden", os_hidden=True)
    mine = f"in:{run}-a,{run}-b,{run}-c,{run}-hidden"

    assert names(server, f"name={mine}&sort_key=name&sort_dir=asc") == [f"{run}-a", f"{run}-b", f"{run}-c"]
    assert names(server, f"name={mine}&sort=name:desc") == [f"{run}-c", f"{run}-b", f"{run}-a"]
    assert names(server, f"name={mine}&sort_key=size&sort_dir=asc") == [f"{run}-c", f"{run}-a", f"{run}-b"]
    assert names(server, f"name={mine}&tag=red&tag=big") == [f"{run}-b"]
    assert sorted(names(server, f"name={mine}&tag=red")) == [f"{run}-a", f"{run}-b"]
    assert names(server, f"name={mine}&status=queued") == [f"{run}-c"]
    assert names(server, f"name={mine}&size_min=200") == [f"{run}-b"]
    assert names(server, f"name={mine}&size_max=200") == [f"{run}-a"]
    assert names(server, f"name={mine}&os_distro=ubuntu") == [f"{run}-a"]
    assert names(server, f"name=eq:{run}-a") == [f"{run}-a"]
    assert names(server, f"name={mine}&os_hidden=true") == [f"{run}-hidden"]
    assert names(server, "created_at=gte:2000-01-01T00:00:00Z&name=" + f"{run}-a") == [f"{run}-a"]
    # glanceclient's own filter and sort arguments.
    listed = [i["name"] for i in glance.images.list(filters={"tag": ["red"], "name": mine}, sort_key="name", sort_dir="asc")]
    assert listed == [f"{run}-a", f"{run}-b"]


def test_pages_follow_next_in_any_order(glance, server):
    run = uuid.uuid4().hex[:8]
    for i in range(7):
        make(glance, run, f"p{i}")
    query = "name=in:" + ",".join(f"{run}-p{i}" for i in range(7)) + "&sort_key=name&sort_dir=asc&limit=3"
    seen, url = [], f"{server}/v2/images?{query}"
    while url:
        body = requests.get(url).json()
        seen += [i["name"] for i in body["images"]]
        assert body["first"].startswith("/v2/images?") and "marker" not in body["first"]
        url = server + body["next"] if "next" in body else None
    assert seen == [f"{run}-p{i}" for i in range(7)]


def test_bad_list_parameters(server):
    for query in ["limit=-1", "limit=x", "sort_key=bogus", "sort_dir=sideways", "sort=name&sort_key=name",
                  "visibility=everyone", "member_status=maybe", "os_hidden=perhaps", "size_min=big",
                  "created_at=gt:yesterday", "name=like:x", "changes-since=2020-01-01T00:00:00Z",
                  f"marker={uuid.uuid4()}"]:
        assert requests.get(f"{server}/v2/images?{query}").status_code == 400, query
