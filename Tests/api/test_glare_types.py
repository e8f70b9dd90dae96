"""Glare's artifact types field for field, and compound fields in patches and filters, as real
Glare (openstack/glare at its last commit) answers them. `fixtures/glare-schemas.json` is the
schema document Glare's own functional test (glare/tests/functional/test_schemas.py) expects
from `GET /schemas`: every built-in type, `sample_artifact` and `all`."""
import json
import pathlib
import uuid

import pytest
import requests

from conftest import identity, start_server
from glare_requests import PATCH, SAMPLE, create, message, op, patch

GLARE_SCHEMAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "glare-schemas.json").read_text())


@pytest.fixture(scope="module")
def artifacts():
    """A server of this module's own, so that its lists hold only this module's artifacts."""
    with start_server() as server:
        yield server.artifacts_url


def test_schemas_are_glares_field_for_field(artifacts):
    served = requests.get(f"{artifacts}/schemas").json()["schemas"]
    assert served == GLARE_SCHEMAS
    for name, schema in GLARE_SCHEMAS.items():
        assert requests.get(f"{artifacts}/schemas/{name}").json()["schemas"] == {name: schema}


def test_a_new_sample_artifact_holds_every_field_with_its_default(artifacts):
    artifact = create(artifacts, name="my-art")
    own = set(GLARE_SCHEMAS[SAMPLE]["properties"]) - {"type_name"}
    assert set(artifact) == own | {"__some_meta_information__"}
    assert artifact["__some_meta_information__"] == "MY-ART"
    expected = {
        "description": "", "tags": [], "metadata": {}, "status": "drafted", "visibility": "private", "version": "0.0.0",
        "display_type_name": "Sample Artifact", "activated_at": None, "blob": None, "small_blob": None, "link1": None, "link2": None,
        "bool1": False, "bool2": False, "int1": None, "int2": None, "float1": None, "float2": None, "str1": None,
        "list_of_str": [], "list_of_int": [], "dict_of_str": {}, "dict_of_int": {}, "dict_of_links": {}, "list_of_links": [],
        "dict_of_blobs": {}, "string_mutable": None, "string_regex": None, "string_required": None, "string_validators": None,
        "int_validators": None, "list_validators": [], "dict_validators": None, "system_attribute": "default",
        "metadata_attribute": "default",
    }
    assert {key: artifact[key] for key in expected} == expected
    shown = requests.get(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}").json()
    assert shown == artifact
    # Through `all`: the base fields, type_name, and the sample type's own extra key.
    through_all = requests.get(f"{artifacts}/artifacts/all/{artifact['id']}").json()
    assert through_all["type_name"] == SAMPLE and through_all["__some_meta_information__"] == "MY-ART" and "int1" not in through_all
    heat = create(artifacts, "heat_templates")
    assert "__some_meta_information__" not in requests.get(f"{artifacts}/artifacts/all/{heat['id']}").json()


@pytest.mark.parametrize("field,value,stored", [
    ("int1", "2", 2), ("int1", 1.9, 1), ("int1", True, 1), ("float1", "3.5", 3.5), ("float1", 2, 2),
    ("str1", 1, "1"), ("str1", True, "True"), ("bool1", "yes", True), ("bool1", 1, True), ("bool1", "no", False),
    ("list_of_str", [1, 2], ["1", "2"]), ("list_of_int", ["1", 2], [1, 2]), ("dict_of_int", {"a": "7"}, {"a": 7}),
    ("dict_of_str", {"a": 1}, {"a": "1"}), ("string_validators", "aa", "aa"), ("int_validators", 15, 15),
    ("string_regex", "0123abCD", "0123abCD"), ("list_validators", ["a", "b", "c"], ["a", "b", "c"]),
    ("dict_validators", {"abc": "x", "jkl": "y"}, {"abc": "x", "jkl": "y"}),
])
def test_values_are_coerced_as_glare_coerces_them(artifacts, field, value, stored):
    artifact = create(artifacts)
    response = patch(artifacts, artifact, op("replace", f"/{field}", value))
    assert response.status_code == 200, response.text
    assert response.json()[field] == stored
    assert create(artifacts, **{field: value})[field] == stored


@pytest.mark.parametrize("field,value,why", [
    ("int1", "abc", "invalid literal for int() with base 10: 'abc'"), ("int1", [1], "int() argument"),
    ("float1", "x", "could not convert string to float: 'x'"), ("str1", [1], "A string is required in field str1"),
    ("str1", "s" * 256, "String length must be less than  255. Current length: 256"),
    ("string_validators", "cc", "Value must be one of the following: aa, bb, ccccccccccc"),
    ("string_validators", "c" * 11, "String length must be less than  10. Current length: 11"),
    ("int_validators", 9, "Number is too small: 9. Min allowed number is 10"),
    ("int_validators", 21, "Number is too big: 21. Max allowed number is 20"),
    ("string_regex", "0123abCG", "does not match"), ("list_validators", ["a", "a"], "must be unique"),
    ("list_validators", ["a", "b", "c", "d"], "Number of items must be less than  3. Current size: 4"),
    ("dict_validators", {"zzz": "x"}, "Key zzz is not allowed in dict. Allowed key values: abc, def, ghi, jkl"),
    ("dict_validators", {"abc": "1", "def": "2", "ghi": "3", "jkl": "4"}, "Number of items must be less than  3"),
    ("list_of_str", "x", "A list is required"), ("dict_of_str", ["x"], "A dict is required"),
    ("dict_of_str", {"k" * 256: "v"}, "Dict key length"), ("list_of_int", ["x"], "invalid literal for int()"),
    ("link1", "Invalid", "The link must be either valid url or reference to artifact"),
    ("link1", "ftp://example.com/x", "The link must be either valid url"), ("link1", 5, "A string is required in field link1"),
    ("link1", f"/artifacts/{SAMPLE}/{uuid.uuid4()}", "doesn't exist"),
    ("list_of_links", ["/artifacts/x"], "The link must be either valid url"),
])
def test_values_that_do_not_coerce_or_validate_are_400(artifacts, field, value, why):
    artifact = create(artifacts)
    response = patch(artifacts, artifact, op("replace", f"/{field}", value))
    assert response.status_code == 400, response.text
    assert message(response).startswith(f"Type: {SAMPLE}. Field: {field}. Exception: ") and why in message(response)
    assert requests.get(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}").json() == artifact, "nothing changed"
    created = requests.post(f"{artifacts}/artifacts/{SAMPLE}", json={"name": "bad", field: value})
    assert created.status_code == 400 and why in message(created)


def test_links_name_existing_artifacts_or_http_urls(artifacts):
    target = create(artifacts)
    link = f"/artifacts/{SAMPLE}/{target['id']}"
    artifact = create(artifacts, link1=link)
    assert artifact["link1"] == link
    response = patch(artifacts, artifact, op("add", "/dict_of_links/dep", link), op("add", "/list_of_links/-", "https://example.com/x"),
                     op("replace", "/link2", "http://example.com/y"))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["dict_of_links"] == {"dep": link} and changed["list_of_links"] == ["https://example.com/x"]
    assert patch(artifacts, artifact, op("replace", "/link1", None)).json()["link1"] is None
    assert patch(artifacts, artifact, op("remove", "/dict_of_links/dep")).json()["dict_of_links"] == {}


def test_system_fields_are_403_on_create_and_patch(artifacts):
    created = requests.post(f"{artifacts}/artifacts/{SAMPLE}", json={"name": "sys", "system_attribute": "x"})
    assert created.status_code == 403
    assert message(created) == "Forbidden to specify system field system_attribute. It is not available for modifying by users."
    artifact = create(artifacts)
    response = patch(artifacts, artifact, op("replace", "/system_attribute", "x"))
    assert response.status_code == 403 and "system field system_attribute" in message(response)
    assert requests.get(f"{artifacts}/artifacts/{SAMPLE}?sort=system_attribute:asc").status_code == 200


def test_null_puts_the_default_back(artifacts):
    artifact = create(artifacts, bool1=True, list_of_str=["a"], dict_of_str={"k": "v"}, metadata_attribute="mine",
                      dict_validators={"abc": "x"})
    response = patch(artifacts, artifact, *[op("replace", f"/{field}", None) for field in (
        "bool1", "list_of_str", "dict_of_str", "metadata_attribute", "dict_validators", "description")])
    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["bool1"], after["list_of_str"], after["dict_of_str"]) == (False, [], {})
    assert (after["metadata_attribute"], after["dict_validators"], after["description"]) == ("default", None, None)


def test_compound_fields_patch_by_key_and_index(artifacts):
    artifact = create(artifacts, list_of_str=["a", "b"], dict_of_str={"k": "v"})

    def apply(*operations):
        response = patch(artifacts, artifact, *operations)
        return response.status_code, response.json() if response.status_code == 200 else message(response)

    assert apply(op("add", "/dict_of_str/k2", "v2"))[1]["dict_of_str"] == {"k": "v", "k2": "v2"}
    assert apply(op("add", "/dict_of_str/k", "new"))[1]["dict_of_str"]["k"] == "new"  # add overwrites
    assert apply(op("remove", "/dict_of_str/k2"))[1]["dict_of_str"] == {"k": "new"}
    assert apply(op("add", "/dict_of_int/n", "5"))[1]["dict_of_int"] == {"n": 5}
    assert apply(op("add", "/list_of_str/-", "c"))[1]["list_of_str"] == ["a", "b", "c"]
    assert apply(op("add", "/list_of_str/0", "z"))[1]["list_of_str"] == ["z", "a", "b", "c"]
    assert apply(op("replace", "/list_of_str/1", "y"))[1]["list_of_str"] == ["z", "y", "b", "c"]
    assert apply(op("remove", "/list_of_str/1"))[1]["list_of_str"] == ["z", "b", "c"]
    assert apply(op("add", "/list_of_int/-", "3"))[1]["list_of_int"] == [3]
    for refused in [
        op("replace", "/dict_of_str/missing", "v"), op("remove", "/dict_of_str/missing"), op("add", "/dict_of_str/", "v"),
        op("add", "/dict_of_str", "scalar"), op("add", "/dict_of_str/k", [1, 2]), op("add", "/list_of_str/10", "x"),
        op("replace", "/list_of_str/-", "x"), op("replace", "/list_of_str/99", "x"), op("remove", "/list_of_str/-"),
        op("remove", "/list_of_str/999"), op("replace", "/list_of_str", {}), op("add", "/dict_validators/aaa", "x"),
        op("remove", "/list_of_str"),
    ]:
        assert apply(refused)[0] == 400, refused
    assert apply(op("add", "/list_validators/-", "a"), op("add", "/list_validators/-", "a"))[0] == 400
    shown = requests.get(f"{artifacts}/artifacts/{SAMPLE}/{artifact['id']}").json()
    assert (shown["list_of_str"], shown["dict_of_str"], shown["list_validators"]) == (["z", "b", "c"], {"k": "new"}, [])


def test_compound_fields_filter_by_key_membership_and_element(artifacts):
    tag = f"compound-{uuid.uuid4()}"
    a = create(artifacts, tags=[tag], dict_of_str={"os": "linux", "arch": "x86"}, dict_of_int={"cores": 4}, list_of_str=["red", "blue"],
               list_of_int=[1, 2], metadata={"team": "infra"}, dict_validators={"abc": "x"})
    b = create(artifacts, tags=[tag], dict_of_str={"os": "bsd"}, dict_of_int={"cores": 8}, list_of_str=["green"], list_of_int=[3])
    c = create(artifacts, tags=[tag])

    def ids(query):
        response = requests.get(f"{artifacts}/artifacts/{SAMPLE}?tags={tag}&{query}")
        assert response.status_code == 200, (query, response.text)
        return {x["id"] for x in response.json()["artifacts"]}

    assert ids("dict_of_str.os=linux") == {a["id"]} and ids("dict_of_str.os=in:linux,bsd") == {a["id"], b["id"]}
    assert ids("dict_of_int.cores=8") == {b["id"]} and ids("dict_of_int.cores=in:4,8") == {a["id"], b["id"]}
    assert ids("dict_of_str=arch") == {a["id"]} and ids("dict_of_str=eq:os") == {a["id"], b["id"]}
    assert ids("dict_of_str=in:arch,nothing") == {a["id"]} and ids("dict_of_str=in:nothing") == set()
    assert ids("dict_validators=eq:abc") == {a["id"]}  # key membership ignores the field's (empty) operators
    assert ids("metadata.team=infra") == {a["id"]} and ids("metadata=eq:team") == {a["id"]}
    assert ids("list_of_str=blue") == {a["id"]} and ids("list_of_str=in:green,blue") == {a["id"], b["id"]}
    assert ids("list_of_int=3") == {b["id"]} and ids("list_of_int=in:1,3") == {a["id"], b["id"]}
    assert ids("dict_of_str.os=nothing") == set() and ids("dict_of_str.=x") == set()
    # or: conditions are OR-ed together and AND-ed with the rest.
    assert ids("list_of_int=or:3&dict_of_str.os=or:linux") == {a["id"], b["id"]}
    assert ids("list_of_int=or:3&dict_of_str.os=or:linux&dict_of_int.cores=8") == {b["id"]}
    assert ids("dict_of_blobs=eq:k") == set()
    assert c["id"] in ids("bool1=false")  # an unset boolean is its default, false


@pytest.mark.parametrize("query,why", [
    ("dict_of_str=neq:k", "Unsupported filter type 'neq'. The following filters are supported: eq, in"),
    ("dict_of_str.os=gt:v", "Unsupported filter type 'gt'"), ("list_of_str.x=1", "Field list_of_str is not Dict"),
    ("int1.x=1", "Field int1 is not Dict"), ("foo.bar=1", "Field foo is not Dict"),
    ("dict_of_str.a.b=1", "Field dict_of_str.a is not Dict"), ("list_of_int=abc", "invalid literal for int()"),
    ("dict_of_int.n=lala", "invalid literal for int()"), ("list_validators=a", "Unsupported filter type 'eq'"),
    ("dict_of_blobs.k=x", "Unsupported filter type 'eq'"), ("tags=eq:x", "Tags are filtered without operator"),
    ("list_of_str=like:a%", "Unsupported filter type 'like'"), ("dict_of_links=neq:k", "Unsupported filter type 'neq'"),
])
def test_compound_filters_refused_as_glare_refuses_them(artifacts, query, why):
    response = requests.get(f"{artifacts}/artifacts/{SAMPLE}?{query}")
    assert response.status_code == 400, (query, response.text)
    assert why in message(response)


def test_display_type_name_filters_across_types(artifacts):
    sample = create(artifacts)
    heat = create(artifacts, "heat_templates")

    def ids(type_name, query):
        response = requests.get(f"{artifacts}/artifacts/{type_name}?limit=1000&{query}")
        assert response.status_code == 200, (query, response.text)
        return {x["id"] for x in response.json()["artifacts"]} & {sample["id"], heat["id"]}

    assert ids("all", "display_type_name=like:Heat%") == {heat["id"]}
    assert ids("all", "display_type_name=Sample Artifact") == {sample["id"]}
    assert ids("all", "display_type_name=neq:Sample Artifact") == {heat["id"]}
    assert ids(SAMPLE, "display_type_name=in:Heat Templates,Sample Artifact") == {sample["id"]}
    assert ids(SAMPLE, "sort=display_type_name:asc") == {sample["id"]}


def test_builtin_types_declare_glares_rules(artifacts):
    package = create(artifacts, "murano_packages")
    assert package["type"] == "Application" and package["dependencies"] == [] and package["inherits"] == {}
    response = requests.post(f"{artifacts}/artifacts/murano_packages", json={"name": "p", "class_definitions": ["a", "a"]})
    assert response.status_code == 400 and "must be unique" in message(response)
    image = create(artifacts, "images")
    url = f"{artifacts}/artifacts/images/{image['id']}"
    bad = requests.patch(url, json=[op("replace", "/kernel_id", "not-a-uuid")], headers=PATCH)
    assert bad.status_code == 400 and "kernel_id" in message(bad)
    # container_format and disk_format are required on activation, the image blob is not.
    activate = requests.patch(url, json=[op("replace", "/status", "active")], headers=PATCH)
    assert activate.status_code == 403 and message(activate) == "'container_format' field value must be set before activation."
    ok = requests.patch(url, json=[op("replace", "/container_format", "bare"), op("replace", "/disk_format", "raw"),
                                   op("replace", "/status", "active")], headers=PATCH)
    assert ok.status_code == 200, ok.text


OPERATOR_TYPES = {"types": [{"name": "vm_bundles", "display_name": "VM Bundles", "fields": [
    {"name": "sizes", "type": "list", "element": "integer", "filter_ops": ["eq", "in"], "max_items": 2},
    {"name": "labels", "type": "dict", "allowed_keys": ["zone", "tier"], "default": None},
    {"name": "base", "type": "link", "mutable": True},
    {"name": "build", "type": "string", "system": True, "default": "none", "sortable": True},
    {"name": "rank", "type": "integer", "minimum": 1, "maximum": 5, "required_on_activate": True},
]}]}


def test_operator_types_declare_the_same_rules(tmp_path):
    types = tmp_path / "types.json"
    types.write_text(json.dumps(OPERATOR_TYPES))
    with start_server(env={"GRANARY_ARTIFACTS_TYPES_FILE": str(types)}) as server:
        root = server.artifacts_url
        schema = requests.get(f"{root}/schemas/vm_bundles").json()["schemas"]["vm_bundles"]
        assert schema["display_name"] == "VM Bundles" and schema["properties"]["build"]["readOnly"] is True
        assert schema["properties"]["sizes"] == {
            "type": ["array", "null"], "glareType": "IntegerList", "items": {"type": "integer"}, "maxItems": 2, "default": [],
            "filter_ops": ["eq", "in"], "required_on_activate": False}
        assert schema["properties"]["labels"]["additionalProperties"] is False and "default" not in schema["properties"]["labels"]
        created = requests.post(f"{root}/artifacts/vm_bundles", json={"name": "b1", "sizes": ["4", 8]})
        assert created.status_code == 201, created.text
        bundle = created.json()
        assert (bundle["sizes"], bundle["labels"], bundle["build"], bundle["rank"]) == ([4, 8], None, "none", None)
        url = f"{root}/artifacts/vm_bundles/{bundle['id']}"
        assert requests.patch(url, json=[op("add", "/sizes/-", 1)], headers=PATCH).status_code == 400  # max_items 2
        assert requests.patch(url, json=[op("replace", "/labels", {"color": "x"})], headers=PATCH).status_code == 400
        assert requests.patch(url, json=[op("replace", "/build", "x")], headers=PATCH).status_code == 403
        assert requests.patch(url, json=[op("replace", "/rank", 9)], headers=PATCH).status_code == 400
        assert requests.patch(url, json=[op("replace", "/status", "active")], headers=PATCH).status_code == 403  # rank required
        assert requests.get(f"{root}/artifacts/vm_bundles?sizes=8").json()["artifacts"][0]["id"] == bundle["id"]


@pytest.mark.parametrize("field,problem", [
    ({"name": "x", "type": "list", "filter_ops": ["gt"]}, "cannot be filtered with 'gt'"),
    ({"name": "x", "type": "integer", "default": "many"}, "has a default its own rules refuse"),
    ({"name": "x", "type": "list", "sortable": True}, "cannot be sortable"),
    ({"name": "x", "type": "dict", "element": "blob"}, "needs a scalar element"),
])
def test_operator_types_that_cannot_be_served_stop_the_server(tmp_path, field, problem):
    types = tmp_path / "types.json"
    types.write_text(json.dumps({"types": [{"name": "broken", "fields": [field]}]}))
    with pytest.raises(RuntimeError, match=problem):
        start_server(env={"GRANARY_ARTIFACTS_TYPES_FILE": str(types)})


def test_errors_name_glares_exception_classes(artifacts):
    missing = str(uuid.uuid4())
    shown = requests.get(f"{artifacts}/artifacts/{SAMPLE}/{missing}")
    assert shown.status_code == 404 and shown.json()["error"] == {
        "message": f"Artifact with id={missing} not found", "type": "ArtifactNotFound"}
    # An unknown marker is the same 404, as Glare looks the marker up.
    marker = requests.get(f"{artifacts}/artifacts/{SAMPLE}?marker={missing}")
    assert marker.status_code == 404 and marker.json()["error"]["type"] == "ArtifactNotFound"
    no_type = requests.get(f"{artifacts}/artifacts/nosuch")
    assert no_type.status_code == 404 and no_type.json()["error"] == {
        "message": "Glare type with name 'nosuch' was not found.", "type": "TypeNotFound"}


def test_policy_refusals_name_policy_exception(headers_granary):
    root, member = headers_granary.artifacts_url, identity("types-policy")
    created = requests.post(f"{root}/artifacts/{SAMPLE}", json={"name": "p", "string_required": "x"}, headers=member)
    assert created.status_code == 201, created.text
    url = f"{root}/artifacts/{SAMPLE}/{created.json()['id']}"
    assert requests.patch(url, json=[op("replace", "/status", "active")], headers={**PATCH, **member}).status_code == 200
    publish = requests.patch(url, json=[op("replace", "/visibility", "public")], headers={**PATCH, **member})
    assert publish.status_code == 403 and publish.json()["error"] == {
        "message": "Policy check for artifact:publish failed with user credentials.", "type": "PolicyException"}


def test_requests_and_list_parameters_answer_as_glare(artifacts):
    url = f"{artifacts}/artifacts/{SAMPLE}"
    # No Content-Type at all is 400 (another one 415), on create, patch and upload.
    created = requests.post(url, data=json.dumps({"name": "x"}))
    assert created.status_code == 400 and message(created) == "Content-Type must be specified."
    artifact = create(artifacts, name=123, str1="a,b")
    assert artifact["name"] == "123"  # a String field: Glare coerces it
    one = f"{url}/{artifact['id']}"
    assert requests.patch(one, data=json.dumps([op("replace", "/int1", 1)])).status_code == 400
    upload = requests.put(f"{one}/blob", data=b"abc")
    assert upload.status_code == 400 and message(upload) == "Content-Type must be specified."
    for query, why in [
        ("limit=x", "Limit param must be an integer."), ("limit=-1", "Limit param must be positive."),
        ("sort=name:up", 'Sort direction must be one of ["asc", "desc"]. Got up direction'),
        ("sort=name:asc:x", 'Sort direction must be one of ["asc", "desc"]. Got asc:x direction'),
        ("sort=nope", "The field nope doesn't exist."), ("sort=bool1", "The field bool1 is not sortable."),
        ("sort=dict_of_int.one", "The field dict_of_int.one doesn't exist."),
        ('str1=in:a"b",c', "There is no comma before opening quotation mark."),
        ('str1=in:"a"b,c', "There is no comma after closing quotation mark."), ('str1=in:"a,b', "The quote is not closed."),
    ]:
        response = requests.get(f"{url}?{query}")
        assert response.status_code == 400 and why in message(response), (query, response.text)
    # In `in:` values a quoted item may hold commas (api-wg).
    listed = requests.get(f'{url}?str1=in:"a,b",c').json()["artifacts"]
    assert [x["id"] for x in listed] == [artifact["id"]]
    assert requests.get(f"{url}?str1=in:a,b").json()["artifacts"] == []
