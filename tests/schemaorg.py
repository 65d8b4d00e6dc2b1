"""Check JSON-LD against the schema.org vocabulary: types, properties, domains and ranges.

tests/data/schemaorg-vocabulary.json.gz is schema.org's release file (schemaorg-current-
https.jsonld of the release in its "version") cut down to what the check reads. For a
newer release: ``python -m tests.schemaorg path/to/schemaorg-current-https.jsonld 30.0``.
"""

import functools
import gzip
import json
import sys
from pathlib import Path

VOCABULARY = Path(__file__).with_name("data") / "schemaorg-vocabulary.json.gz"
SCHEMA_URL = "https://schema.org/"
# schema.org's data types (and their subtypes): a property with one of them takes text.
DATA_TYPES = {"Boolean", "Date", "DateTime", "Number", "Float", "Integer", "Text", "URL", "Time"}
DATA_TYPES |= {"CssSelectorType", "PronounceableText", "XPathType"}


def _names(value) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return sorted(item["@id"].removeprefix("schema:") for item in items)


def build(release_file: str, version: str) -> dict:
    """{version, classes: {name: parents}, properties: {name: [domains, ranges, superseded]},
    members: [enumeration members]} from a schemaorg-current-https.jsonld."""
    classes, properties, members = {}, {}, []
    for node in json.loads(Path(release_file).read_text())["@graph"]:
        name, types = node["@id"].removeprefix("schema:"), node["@type"]
        types = types if isinstance(types, list) else [types]
        if "rdf:Property" in types:
            properties[name] = [
                _names(node.get("schema:domainIncludes")),
                _names(node.get("schema:rangeIncludes")),
                bool(node.get("schema:supersededBy")),
            ]
        elif "rdfs:Class" in types or "rdfs:subClassOf" in node:
            classes[name] = _names(node.get("rdfs:subClassOf"))
        if any(t.startswith("schema:") for t in types):
            members.append(name)  # Monday, Physiotherapy (also a class): enumeration values
    return {"version": version, "classes": classes, "properties": properties, "members": members}


@functools.cache
def vocabulary() -> dict:
    return json.loads(gzip.decompress(VOCABULARY.read_bytes()))


@functools.cache
def ancestors(name: str) -> frozenset:
    parents = vocabulary()["classes"].get(name, [])
    return frozenset([name]).union(*(ancestors(parent) for parent in parents))


def _types(node) -> list[str]:
    types = node.get("@type", [])
    return types if isinstance(types, list) else [types]


def problems(node, where="") -> list[str]:
    """Every type, property or value in ``node`` (and below) that schema.org does not allow."""
    vocab, found = vocabulary(), []
    if isinstance(node, list):
        for i, item in enumerate(node):
            found += problems(item, f"{where}[{i}]")
        return found
    if isinstance(node, str) and node.startswith(SCHEMA_URL):
        if node.removeprefix(SCHEMA_URL) not in vocab["members"]:
            found.append(f"{where}: {node} is not a schema.org enumeration value")
        return found
    if not isinstance(node, dict):
        return found
    types = _types(node)
    for type_name in types:
        if type_name not in vocab["classes"]:
            found.append(f"{where}: unknown type {type_name}")
    node_classes = set().union(*(ancestors(t) for t in types)) if types else set()
    for prop, value in node.items():
        here = f"{where}.{prop}" if where else prop
        if prop.startswith("@"):
            found += problems(value, here) if prop == "@graph" else []
            continue
        if prop not in vocab["properties"]:
            found.append(f"{here}: unknown property")
            continue
        domains, ranges, superseded = vocab["properties"][prop]
        if superseded:
            found.append(f"{here}: superseded in schema.org")
        if types and not node_classes & set(domains):
            found.append(f"{here}: not a property of {'/'.join(types)} (only of {domains})")
        for item in value if isinstance(value, list) else [value]:
            item_types = _types(item) if isinstance(item, dict) else []
            if item_types and not any(ancestors(t) & set(ranges) for t in item_types):
                found.append(f"{here}: a {'/'.join(item_types)} where {ranges} is expected")
            # A URL may name a thing (an enumeration value, a page); other text only fits
            # a property that takes a data type.
            is_url = isinstance(item, str) and item.startswith(("https://", "http://"))
            if isinstance(item, str | int | float) and not is_url and not DATA_TYPES & set(ranges):
                found.append(f"{here}: text {item!r} where {ranges} is expected")
        found += problems(value, here)
    return found


if __name__ == "__main__":
    version = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    data = json.dumps(build(sys.argv[1], version), sort_keys=True, separators=(",", ":"))
    VOCABULARY.parent.mkdir(exist_ok=True)
    VOCABULARY.write_bytes(gzip.compress(data.encode(), compresslevel=9, mtime=0))
    print(f"{VOCABULARY}: schema.org {version}, {len(data)} bytes before gzip")
