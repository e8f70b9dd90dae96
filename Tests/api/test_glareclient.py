"""The real python-glareclient (PyPI) CLI against the artifacts listener.

It gets through create, show, list (with filters, across types), upload, tags, update,
activate, publish, schema, download and delete. `glare download` cannot run unaided on Python 3:
the client's `ResponseBlobWrapper.next` calls the generator's Python 2 `.next()`. The download is
run with a `sitecustomize` that gives the wrapper's iterator that one method and changes nothing
else, so the client's own md5 check runs against our `Content-MD5` (hex, as Glare sends it).
"""
import hashlib
import json
import os
import subprocess
import textwrap


from conftest import ROOT

GLARE = str(ROOT / ".venv" / "bin" / "glare")


# python-glareclient 0.5.3 iterates with Python 2's `.next()`; this gives its iterator that method.
PY2_NEXT = textwrap.dedent("""
    import glareclient.common.utils as utils
    _init = utils.ResponseBlobWrapper.__init__
    def __init__(self, *args, **kwargs):
        _init(self, *args, **kwargs)
        chunks = self.iter
        class Python2Iterator:
            def next(self):
                return next(chunks)
        self.iter = Python2Iterator()
    utils.ResponseBlobWrapper.__init__ = __init__
""")


def glare(artifacts, *args, pythonpath=None):
    env = {**os.environ, "OS_GLARE_URL": artifacts}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([GLARE, *args], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out.stdout


def shown(artifacts, *args):
    """An artifact (rows of Field/Value) or a blob (a plain object) as a dict."""
    parsed = json.loads(glare(artifacts, *args, "-f", "json"))
    return parsed if isinstance(parsed, dict) else {row["Field"]: row["Value"] for row in parsed}


def test_glare_cli_lifecycle(artifacts, tmp_path):
    template = tmp_path / "tpl.yaml"
    template.write_bytes(b"heat_template_version: 2021-04-16\nresources: {}\n")
    created = shown(artifacts, "create", "heat_templates", "glarecli", "--artifact-version", "1.0", "--property", "description=hello")
    assert created["version"] == "1.0.0" and created["status"] == "drafted" and created["description"] == "hello"
    shown(artifacts, "create", "heat_templates", "glarecli", "--artifact-version", "1.1")
    same = ["heat_templates", "glarecli", "--artifact-version", "1.0"]
    assert shown(artifacts, "show", *same)["id"] == created["id"]
    uploaded = shown(artifacts, "upload", *same, "--file", str(template), "--blob-property", "template")
    assert uploaded["size"] == len(template.read_bytes()) and uploaded["sha256"] == hashlib.sha256(template.read_bytes()).hexdigest()
    assert "prod" in shown(artifacts, "add-tag", *same, "prod")["tags"]
    assert shown(artifacts, "update", *same, "--property", "description=changed")["description"] == "changed"
    assert shown(artifacts, "activate", *same)["status"] == "active"
    assert shown(artifacts, "publish", *same)["visibility"] == "public"
    listed = json.loads(glare(artifacts, "list", "heat_templates", "--filter", "name=glarecli", "--filter", "version=gte:1.1", "-f", "json"))
    assert [(a["Name"], a["Version"]) for a in listed] == [("glarecli", "1.1.0")]
    everything = json.loads(glare(artifacts, "list", "all", "-f", "json"))
    assert {"heat_templates"} <= {a["Type name"] for a in everything}
    schema = json.loads(glare(artifacts, "schema", "heat_templates", "-f", "json"))
    assert any(row["Name"] == "template" and row["Glare_type"] == "Blob" for row in schema)
    # `glare download`, its md5 check on (the default).
    (tmp_path / "shim").mkdir()
    (tmp_path / "shim" / "sitecustomize.py").write_text(PY2_NEXT)
    downloaded = tmp_path / "downloaded.yaml"
    glare(artifacts, "download", *same, "--blob-property", "template", "--file", str(downloaded), pythonpath=str(tmp_path / "shim"))
    assert downloaded.read_bytes() == template.read_bytes()
    glare(artifacts, "delete", "heat_templates", "glarecli", "--artifact-version", "1.1")
    assert [a["Version"] for a in json.loads(glare(artifacts, "list", "heat_templates", "--filter", "name=glarecli", "-f", "json"))] == ["1.0.0"]
