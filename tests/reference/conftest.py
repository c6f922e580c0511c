from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from harness.reference.app import ServerConfig, create_app

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(config=ServerConfig(api_key=KEY))) as c:
        yield c
