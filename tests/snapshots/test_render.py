"""The reviewable form: what stays, what goes, and bundles as manifests."""

from __future__ import annotations

import copy
import json

from harness.contract import Contract, load_contract
from harness.docs_examples import inline_bundle
from harness.secrets import REDACTED
from harness.snapshots import CapturedRequest, bundle_manifest, canonical_view, reviewable
from harness.snapshots.extension import snapshot_data
from harness.snapshots.render import review_headers


def request(body: bytes, query: tuple[tuple[str, str], ...] = ()) -> CapturedRequest:
    headers = (("authorization", "Bearer sk-abc"), ("user-agent", "OpenAI/Python 3.57.0"), ("x-custom", "kept"))
    return CapturedRequest("POST", "/v1/openai/chat/completions", query, headers, body)


def test_volatile_headers_go_secret_headers_are_redacted_others_stay() -> None:
    headers = review_headers(
        [
            ("Authorization", "Bearer k"),
            ("Content-Length", "12"),
            ("X-Stainless-OS", "Linux"),
            ("Accept", "application/json"),
        ]
    )
    assert headers == {"authorization": REDACTED, "accept": "application/json"}


def test_reviewable_request() -> None:
    body = {"model": "m", "skills": [{"type": "inline", "name": "n", "source": {"data": inline_bundle()}}]}
    view = reviewable(request(json.dumps(body).encode(), query=(("api_key", "sk-x"), ("trace", "1"))))
    assert view["request"] == "POST /v1/openai/chat/completions"
    assert view["query"] == {"api_key": REDACTED, "trace": "1"}
    assert view["headers"] == {"authorization": REDACTED, "x-custom": "kept"}
    manifest = view["body"]["skills"][0]["source"]["data"]["manifest"]
    assert manifest["skill"]["name"] == "invoice-extraction"
    assert [e["path"] for e in manifest["entries"]] == ["SKILL.md", "schema.json"]
    assert inline_bundle() not in json.dumps(view)


def test_a_skill_create_or_update_shows_its_source_as_a_manifest() -> None:
    headers = (("content-type", "application/json"),)
    body = {"name": "invoice-extraction", "source": {"type": "base64", "data": inline_bundle()}}
    for path in ("/v1/skills/create", "/v1/skills/invoice-extraction/update"):
        view = reviewable(CapturedRequest("POST", path, (), headers, json.dumps(body).encode()))
        assert view["body"] == {
            "name": "invoice-extraction",
            "source": {"type": "base64", "data": {"manifest": bundle_manifest(inline_bundle())}},
        }
    # elsewhere a top-level `source` is no bundle slot (a chat completion's are its skills')
    view = reviewable(request(json.dumps(body).encode()))
    assert view["body"]["source"]["data"] == inline_bundle()


def test_a_non_json_body_is_shown_as_text() -> None:
    assert reviewable(request(b"not json"))["body_text"] == "not json"


def test_the_deprecated_bundle_key_is_shown_as_a_manifest_too() -> None:
    view = snapshot_data({"skills": [{"type": "inline", "bundle": inline_bundle()}]})
    assert view["skills"][0]["bundle"]["manifest"]["digest"].startswith("sha256:")


def test_an_undecodable_bundle_renders_its_reason() -> None:
    assert bundle_manifest("bm90IGEgemlw") == {
        "undecodable": bundle_manifest("bm90IGEgemlw")["undecodable"],
        "base64_chars": 12,
    }
    assert bundle_manifest("bm90IGEgemlw")["undecodable"].startswith("not_a_zip")


def test_the_canonical_view_redacts_secret_looking_fields() -> None:
    view = canonical_view({"model": "m", "metadata": {"api_key": "sk-x"}, "skills": [{"skill_name": "a"}]})
    assert view["metadata"] == {"api_key": REDACTED}
    assert view["skills"] == [{"skill_name": "a", "skill_version": "latest", "type": "skill_reference"}]


def test_the_canonical_view_fills_the_defaults_of_the_description_given() -> None:
    document = copy.deepcopy(load_contract().document)
    document["components"]["schemas"]["ChatCompletionRequest"]["properties"]["top_p"]["default"] = 0.5
    yours = Contract(document, source="yours.yaml", sha256="yours")
    assert canonical_view({"messages": []}, yours)["top_p"] == 0.5
    assert canonical_view({"messages": []})["top_p"] == 1


def test_a_body_is_shown_with_manifests_and_left_unchanged() -> None:
    body = {"skills": [{"type": "inline", "source": {"data": inline_bundle()}}]}
    view = snapshot_data(body)
    assert set(view["skills"][0]["source"]["data"]) == {"manifest"}
    assert body == {"skills": [{"type": "inline", "source": {"data": inline_bundle()}}]}


def test_other_values_pass_through_unchanged() -> None:
    assert snapshot_data([1, "two"]) == [1, "two"]
