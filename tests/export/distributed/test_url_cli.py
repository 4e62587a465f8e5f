"""The command line with an fsspec URL output: real worker processes writing to a
``file://`` URL, and the usage errors found before anything is sent (credentials in
the URL, never echoed; fsspec missing; an unknown protocol; a single-process export)."""

from __future__ import annotations

import string
import sys
from collections import Counter
from pathlib import Path

import pytest
from fsspec.registry import known_implementations
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.export.distributed.serving import cli_workers
from tests.export.helpers import (
    CORP_ID,
    SECRET,
    expected_pairs,
    leaks,
    new_fake,
    read_pairs,
    run_cli,
    secret_env,
    serve,
)
from tests.redis_server import RedisServer, _free_port
from wecom_async import ValidationError
from wecom_async.export._store import parse_location
from wecom_async.export.cli import ExitStatus, main

KEY, SIG = "AKIAEXAMPLEKEY1234", "s1gnaturev4lue0987"
WITH_CREDENTIALS = [
    f"s3://{KEY}:{SIG}@bucket/exports",
    f"az://container/exports?sv=2024-01-01&sig={SIG}",
    f"gs://{SIG}@bucket/exports",
]


def test_workers_write_to_a_file_url_and_assemble_to_one(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    fake = new_fake()
    fake.seed(staff=4, customers_per_staff=5, seed=22)
    env = secret_env()
    url = f"file://{tmp_path}/store/out"
    with serve(fake) as base:
        common = ["--redis-url", redis_server.url, "--base-url", base, "--corp-id", CORP_ID]
        with cli_workers(common, tmp_path, env) as logs:
            done = run_cli(
                "export",
                "customers",
                *common,
                "--chunk-size",
                "1",
                "-o",
                url,
                "--workers-wait",
                cwd=tmp_path,
                env=env,
                timeout=120,
            )
            assert done.returncode == ExitStatus.OK, done.stderr
            export_id = done.stdout.strip()
            assembled = run_cli(
                "export",
                "assemble",
                export_id,
                "-o",
                f"file://{tmp_path}/store/all.jsonl",
                "--redis-url",
                redis_server.url,
                cwd=tmp_path,
                env=env,
            )
            assert assembled.returncode == ExitStatus.OK, assembled.stderr
    folder = tmp_path / "store" / "out" / export_id
    assert (folder / "plan.json").is_file()
    assert (folder / "manifest.json").is_file()
    assert len(list((folder / "commits").iterdir())) == 4
    assert not list(folder.glob("*.part")), "parts are spooled aside, never in the store"
    pairs = read_pairs(tmp_path / "store" / "all.jsonl")
    assert Counter(pairs).most_common(1)[0][1] == 1
    assert set(pairs) == expected_pairs(fake)
    assert leaks(SECRET, [done.stdout, done.stderr, assembled.stderr, *logs], tmp_path) == []


def nowhere() -> list[str]:
    """A Redis and a WeCom that answer nothing: a usage error proves nothing was sent."""
    port = _free_port()
    return ["--redis-url", f"redis://127.0.0.1:{port}/0", "--base-url", f"http://127.0.0.1:{port}"]


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == ExitStatus.USAGE
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("wecom-async: error: ")
    return lines[0]


@pytest.mark.parametrize("url", WITH_CREDENTIALS)
def test_a_url_with_credentials_is_refused_before_anything_is_sent_and_never_echoed(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    commands = [
        ["export", "customers", "--corp-id", CORP_ID, *nowhere(), "-o", url, "--workers"],
        ["export", "assemble", "E1", *nowhere()[:2], "-o", url],
        ["export", "resume", "E1", *nowhere()[:2], "--dir", url],
    ]
    for argv in commands:
        line = refused(argv, capsys)
        assert "must not carry credentials" in line
        assert "FSSPEC_S3_KEY" in line
        assert KEY not in line
        assert SIG not in line
    with pytest.raises(ValidationError) as caught:
        parse_location(url)
    assert SIG not in str(caught.value)
    assert SIG not in repr(caught.value)


def test_a_url_output_without_fsspec_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    monkeypatch.setitem(sys.modules, "fsspec", None)  # import fsspec fails
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    line = refused(
        ["export", "customers", "--corp-id", CORP_ID, *nowhere(), "-o", "s3://b/x", "--workers"],
        capsys,
    )
    assert 'pip install "wecom-async[fsspec]"' in line


def test_an_unknown_protocol_or_its_missing_package_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    base = ["export", "customers", "--corp-id", CORP_ID, *nowhere(), "--workers", "-o"]
    line = refused([*base, "nosuchproto://bucket/x"], capsys)
    assert "fsspec knows no storage protocol 'nosuchproto'" in line
    monkeypatch.setitem(
        known_implementations,
        "needspkg",
        {"class": "not_installed_fs_xyz.FS", "err": "Install not_installed_fs_xyz for needspkg"},
    )
    line = refused([*base, "needspkg://bucket/x"], capsys)
    assert "needspkg:// URLs: Install not_installed_fs_xyz for needspkg" in line


def test_a_single_process_export_to_a_url_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    line = refused(
        ["export", "customers", "--corp-id", CORP_ID, *nowhere(), "-o", "s3://b/c.jsonl"], capsys
    )
    assert "needs --workers" in line
    assert list(tmp_path.iterdir()) == []


def test_resume_from_a_folder_without_the_export_is_a_one_line_error(
    redis_server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for where in (str(tmp_path / "nothing"), f"file://{tmp_path}/nothing"):
        argv = ["export", "resume", "E1", "--redis-url", redis_server.url, "--dir", where]
        assert main(argv) == ExitStatus.FAILED
        err = capsys.readouterr().err
        assert err.startswith("wecom-async: error: the export's files cannot be used (")
        assert "FileNotFoundError" in err
        assert "Traceback" not in err


def test_a_relative_file_url_is_stored_absolute_and_a_bare_bucket_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_location("file://rel/out/").shared() == str(tmp_path / "rel" / "out")
    for url in ("s3://bucket", "s3://bucket/", "file:///"):
        with pytest.raises(ValidationError, match="names no folder"):
            parse_location(url)
    with pytest.raises(ValidationError, match=r"'\.\.' segment"):
        parse_location("s3://bucket/a/../b")


@settings(deadline=None, max_examples=60)
@given(
    secret=st.text(alphabet=string.ascii_letters + string.digits + "+/=%-_~", min_size=8),
    shape=st.sampled_from(
        ["{s}:{t}@b/x", "{s}@b/x", "b/x?sig={t}", "b/x?{s}", "b/x#{t}", "{s}:{t}/x@b/y"]
    ),
    scheme=st.sampled_from(["s3", "gs", "az", "abfs", "file", "objtest"]),
)
def test_credentials_anywhere_in_a_url_are_refused_and_never_repeated(
    secret: str, shape: str, scheme: str
) -> None:
    url = f"{scheme}://" + shape.format(s=secret[::-1], t=secret)
    with pytest.raises(ValidationError) as caught:
        parse_location(url)
    assert secret not in str(caught.value)
    assert secret[::-1] not in str(caught.value)
    assert "credentials" in str(caught.value)
