"""Requests to the artifacts API that the Glare fidelity modules share."""
import uuid

import requests

PATCH = {"Content-Type": "application/json-patch+json"}
SAMPLE = "sample_artifact"


def create(artifacts, type_name=SAMPLE, **body):
    """A new artifact (201 asserted) with a unique name unless `name` is given."""
    response = requests.post(f"{artifacts}/artifacts/{type_name}", json={"name": f"glare-{uuid.uuid4()}", **body})
    assert response.status_code == 201, response.text
    return response.json()


def patch(artifacts, artifact, *operations):
    return requests.patch(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}", json=list(operations), headers=PATCH)


def op(kind, path, value=None):
    """One JSON-patch operation."""
    return {"op": kind, "path": path} if kind == "remove" else {"op": kind, "path": path, "value": value}


def message(response):
    return response.json()["error"]["message"]
