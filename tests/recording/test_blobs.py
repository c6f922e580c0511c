from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from harness.bundles import build_bundle, digest_b64, encode_bundle, read_zip_entries
from harness.errors import CassetteError
from harness.files import atomic_writer
from harness.recording.blobs import (
    BLOB_PREFIX,
    BlobStore,
    blob_dir_for,
    blob_filename,
    restore_bundles,
    stash_bundles,
    zip_digest,
)

FILES = {"SKILL.md": "---\nname: demo\ndescription: Demo\n---\n# Demo\n", "notes.txt": "alpha"}
ZIP = build_bundle(FILES)
B64 = encode_bundle(ZIP)
DIGEST = digest_b64(B64)


def test_blob_dir_is_shared_under_the_nearest_cassettes_folder(tmp_path: Path) -> None:
    nested = tmp_path / "cassettes" / "a" / "cassettes" / "b" / "test_x.yaml"
    assert blob_dir_for(nested) == tmp_path / "cassettes" / "a" / "cassettes" / "_blobs"
    assert blob_dir_for(tmp_path / "cassettes" / "test_y.yaml") == tmp_path / "cassettes" / "_blobs"
    assert blob_dir_for(tmp_path / "recorded" / "test_z.yaml") == tmp_path / "recorded" / "_blobs"


def test_relative_cassette_paths_find_cassettes_above_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cassettes" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "cassettes" / "sub")
    assert blob_dir_for("c.yaml") == tmp_path / "cassettes" / "_blobs"


def test_blob_filename_has_no_colon() -> None:
    assert blob_filename(DIGEST) == "sha256-" + DIGEST.removeprefix("sha256:") + ".zip"
    with pytest.raises(ValueError, match="not a sha256 digest"):
        blob_filename("md5:abc")


def test_put_writes_once_and_get_verifies(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "cassettes" / "c.yaml")
    path = store.put(DIGEST, ZIP)
    assert path.read_bytes() == ZIP
    assert path.parent == tmp_path / "cassettes" / "_blobs"
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    store.put(DIGEST, build_bundle(FILES, compression="deflated"))  # same content: kept as it is
    assert path.read_bytes() == ZIP
    assert path.stat().st_mtime_ns == before - 10**9
    assert BlobStore(tmp_path / "cassettes" / "c.yaml").get(DIGEST, index=0) == ZIP


def test_put_repairs_a_corrupt_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "c.yaml")
    path = store.path_for(DIGEST)
    path.parent.mkdir()
    path.write_bytes(ZIP[:20])
    store.put(DIGEST, ZIP)
    assert path.read_bytes() == ZIP


def test_blob_files_get_the_usual_permissions(tmp_path: Path) -> None:
    path = BlobStore(tmp_path / "c.yaml").put(DIGEST, ZIP)
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_missing_blob_names_cassette_interaction_and_path(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "c.yaml")
    with pytest.raises(CassetteError) as info:
        store.get(DIGEST, index=3)
    message = str(info.value)
    assert str(tmp_path / "c.yaml") in message
    assert "interaction 3" in message
    assert str(store.path_for(DIGEST)) in message
    assert "missing" in message


@pytest.mark.parametrize(
    "content",
    [b"not a zip", build_bundle({"other.txt": "x"})],
    ids=["not-a-zip", "other-content"],
)
def test_corrupt_blob_is_refused(tmp_path: Path, content: bytes) -> None:
    store = BlobStore(tmp_path / "c.yaml")
    store.path_for(DIGEST).parent.mkdir()
    store.path_for(DIGEST).write_bytes(content)
    with pytest.raises(CassetteError, match=r"interaction 1: blob .*sha256-.* is corrupt"):
        store.get(DIGEST, index=1)


def test_each_blob_is_read_and_checked_once_per_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    BlobStore(tmp_path / "c.yaml").put(DIGEST, ZIP)
    calls: list[int] = []
    real = read_zip_entries

    def counting(data: bytes, *args: Any) -> dict[str, bytes]:
        calls.append(len(data))
        return real(data, *args)

    monkeypatch.setattr("harness.recording.blobs.read_zip_entries", counting)
    store = BlobStore(tmp_path / "c.yaml")
    assert {store.b64(DIGEST, index=i) for i in range(5)} == {B64.encode("ascii")}
    assert len(calls) == 1


def test_atomic_writer_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    class Boom(Exception):
        pass

    def write_half() -> None:
        with atomic_writer(target) as fh:
            fh.write(b"half of the new")
            raise Boom

    with pytest.raises(Boom):
        write_half()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_atomic_writer_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with atomic_writer(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640


def test_racing_writers_and_readers_never_see_a_partial_blob(tmp_path: Path) -> None:
    big = build_bundle({"SKILL.md": FILES["SKILL.md"], "data.bin": os.urandom(512 * 1024)})
    digest = digest_b64(encode_bundle(big))
    path = BlobStore(tmp_path / "c.yaml").path_for(digest)
    bad: list[str] = []
    stop = threading.Event()

    def write() -> None:
        for _ in range(5):
            path.unlink(missing_ok=True)
            BlobStore(tmp_path / "c.yaml").put(digest, big)

    def read() -> None:
        while not stop.is_set():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            if zip_digest(data) != digest:
                bad.append(f"{len(data)} bytes")

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write) for _ in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert bad == []
    assert zip_digest(path.read_bytes()) == digest
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_stash_replaces_decodable_bundles_and_keeps_the_rest() -> None:
    body: dict[str, Any] = {
        "skills": [
            {"type": "inline", "source": {"type": "base64", "data": B64}},
            {"bundle": B64},
            {"source": {"data": "not base64!"}},
            {"bundle": encode_bundle(b"plain bytes, no zip")},
            {"source": {"data": 42}},
            "skill-by-name",
        ],
        "data": B64,  # only skills[i].source.data and skills[i].bundle are bundles
    }
    stash: dict[str, bytes] = {}
    stash_bundles(body, stash)
    placeholder = BLOB_PREFIX + DIGEST
    assert body["skills"][0]["source"]["data"] == placeholder
    assert body["skills"][1]["bundle"] == placeholder
    assert body["skills"][2:] == [
        {"source": {"data": "not base64!"}},
        {"bundle": encode_bundle(b"plain bytes, no zip")},
        {"source": {"data": 42}},
        "skill-by-name",
    ]
    assert body["data"] == B64
    assert stash == {DIGEST: ZIP}

    restore_bundles(body, lambda digest: f"<{digest}>")
    assert body["skills"][0]["source"]["data"] == f"<{DIGEST}>"
    assert body["skills"][1]["bundle"] == f"<{DIGEST}>"
    assert body["skills"][2]["source"]["data"] == "not base64!"


def test_stash_ignores_bodies_without_skills() -> None:
    bodies: list[Any] = [None, [], "x", {"skills": "nope"}, {"skills": None}]
    for body in bodies:
        stash: dict[str, bytes] = {}
        stash_bundles(body, stash)
        assert stash == {}


def test_the_request_path_decides_which_slots_are_stashed() -> None:
    create: dict[str, Any] = {"name": "demo", "source": {"type": "base64", "data": B64}}
    stash: dict[str, bytes] = {}
    stash_bundles(create, stash)  # no path: a chat completion's slots, and this body has none
    assert (create["source"]["data"], stash) == (B64, {})
    stash_bundles(create, stash, "http://127.0.0.1:8000/v1/skills/create")
    assert (create["source"]["data"], stash) == (BLOB_PREFIX + DIGEST, {DIGEST: ZIP})
    restore_bundles(create, lambda digest: f"<{digest}>", "/v1/skills/demo/update")
    assert create["source"]["data"] == f"<{DIGEST}>"
