"""Published contracts and docs are generated from code; these fail when they drift."""

from pathlib import Path

from b2b import apidocs, configdoc

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_and_asyncapi_documents_match_the_code():
    stale = apidocs.drift()
    assert stale == [], f"run `make generate`: {stale} differ from the code"


def test_readme_configuration_table_matches_the_settings_classes():
    readme = (ROOT / "README.md").read_text()
    assert configdoc.readme_with_table(readme) == readme, "run `make generate`"
    assert (ROOT / ".env.example").read_text() == configdoc.env_example(), "run `make generate`"


def test_every_event_contract_is_in_the_asyncapi_document():
    document = apidocs.asyncapi_document()
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert "com.b2b.company.upserted.v1" in names
    assert "com.b2b.company.credit_changed.v1" in names
