"""The corps file of ``export --corps``: every entry checked, every secret resolved, before
any request; no secret in any message or repr."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from wecom_async.export import CorpEntry, CorpsFileError, load_corps
from wecom_async.export._progress import NullProgress, PlainProgress, make_board

SECRET = "Corp-Secret-Zx81pQmW4"
SUITE_SECRET = "Suite-Secret-Hy62kLwN"
CODE = "Perm-Code-Rt93vBnQ77"
TICKET = "Suite-Ticket-Ua55cXeP"
ENV = {"SECRET_ONE": SECRET, "SUITE": SUITE_SECRET, "TICKET": TICKET, "EMPTY": "  "}

GOOD = """
[[corp]]
corp_id = "wwone"
secret_env = "SECRET_ONE"

[[corp]]
corp_id = "wwtwo"
secret_file = "secrets/two"

[[corp]]
corp_id = "wwthree"
provider = "acme"
permanent_code_file = "secrets/three"

[provider.acme]
suite_id = "wwsuite"
suite_secret_env = "SUITE"
suite_ticket_env = "TICKET"
"""


def write(tmp_path: Path, text: str) -> Path:
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "two").write_text(SECRET + "-two\n")  # a trailing newline, as editors leave
    (secrets / "three").write_text(CODE)
    path = tmp_path / "corps.toml"
    path.write_text(text)
    return path


def test_a_good_file_resolves_every_secret_and_shows_none(tmp_path: Path) -> None:
    entries = load_corps(write(tmp_path, GOOD), environ=ENV)

    assert [(e.index, e.corp_id) for e in entries] == [(1, "wwone"), (2, "wwtwo"), (3, "wwthree")]
    one, two, three = entries
    assert (one.secret, one.provider) == (SECRET, None)
    assert two.secret == SECRET + "-two"  # the file's newline stripped
    assert three.secret is None
    assert three.permanent_code == CODE
    assert three.provider is not None
    assert (three.provider.suite_id, three.provider.kind) == ("wwsuite", "third_party")
    assert (three.provider.suite_secret, three.provider.suite_ticket) == (SUITE_SECRET, TICKET)
    assert set(three.secrets()) == {CODE, SUITE_SECRET, TICKET}
    shown = repr(entries)
    for secret in (SECRET, CODE, SUITE_SECRET, TICKET):
        assert secret not in shown


def test_a_custom_app_needs_no_ticket(tmp_path: Path) -> None:
    text = GOOD.replace('suite_ticket_env = "TICKET"', 'kind = "custom"')
    entry = load_corps(write(tmp_path, text), environ=ENV)[2]
    assert entry.provider is not None
    assert (entry.provider.kind, entry.provider.suite_ticket) == ("custom", None)


def test_a_ticket_in_redis_is_named_not_read(tmp_path: Path) -> None:
    text = GOOD.replace('suite_ticket_env = "TICKET"', 'suite_ticket_redis_key = "acme:ticket"')
    entry = load_corps(write(tmp_path, text), environ=ENV)[2]
    assert entry.provider is not None
    assert (entry.provider.suite_ticket, entry.provider.suite_ticket_redis_key) == (
        None,
        "acme:ticket",
    )


BAD = [
    # (what is changed in GOOD, what the message must say)
    (
        ('secret_env = "SECRET_ONE"', 'secret_env = "NOT_SET"'),
        "corp #1 (wwone): environment variable NOT_SET",
    ),
    (('secret_env = "SECRET_ONE"', 'secret_env = "EMPTY"'), "is not set or empty"),
    (('secret_env = "SECRET_ONE"', f'secret = "{SECRET}"'), "secret is written in the file"),
    (('secret_file = "secrets/two"', 'secret_file = "secrets/none"'), "corp #2 (wwtwo)"),
    (('corp_id = "wwtwo"', 'corp_id = "wwone"'), "listed twice (also corp #1)"),
    (('corp_id = "wwtwo"', 'corp_id = "../etc"'), "is not a corp id"),
    (('corp_id = "wwtwo"', "corp_id = 7"), "corp #2: corp_id is missing"),
    (('provider = "acme"', 'provider = "other"'), "no [provider.other] section"),
    (('permanent_code_file = "secrets/three"', ""), "permanent_code_env or"),
    (('suite_ticket_env = "TICKET"', ""), "exactly one of suite_ticket_env"),
    (('suite_ticket_env = "TICKET"', 'kind = "custom"\nsuite_ticket_env = "TICKET"'), "no suite"),
    (('suite_secret_env = "SUITE"', f'suite_secret = "{SUITE_SECRET}"'), "[provider.acme]"),
    (('suite_id = "wwsuite"', 'suite_id = "wwsuite"\nkind = "thirdparty"'), "kind must be"),
    (('secret_env = "SECRET_ONE"', 'secret_env = "SECRET_ONE"\nsecret_file = "x"'), "not both"),
    (('secret_env = "SECRET_ONE"', 'secret_env = "SECRET_ONE"\nsecrte = 1'), "unknown keys"),
    (("[[corp]]", "[[corps]]"), "unknown top-level keys"),
    (('corp_id = "wwthree"', 'corp_id = "wwthree"\nsecret_env = "SECRET_ONE"'), "not a secret"),
    (('corp_id = "wwone"', 'corp_id = "wwone'), "not valid TOML"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_a_bad_entry_is_refused_with_its_place_and_no_secret(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(CorpsFileError) as caught:
        load_corps(write(tmp_path, GOOD.replace(old, new, 1)), environ=ENV)
    text = str(caught.value)
    assert message in text
    for secret in (SECRET, CODE, SUITE_SECRET, TICKET):
        assert secret not in text


def test_a_file_without_corps_or_unreadable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpsFileError, match="lists no corps"):
        load_corps(write(tmp_path, "[provider]\n"), environ=ENV)
    with pytest.raises(CorpsFileError, match="cannot read"):
        load_corps(tmp_path / "missing.toml", environ=ENV)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/dev/zero", "not a regular file"),  # read until memory runs out, before
        ("fifo", "not a regular file"),  # blocked for ever, before
        ("secrets", "not a regular file"),
        ("big", "larger than 64 KiB"),
    ],
)
def test_a_secret_file_that_is_no_small_regular_file_is_refused_unread(
    tmp_path: Path, target: str, reason: str
) -> None:
    path = write(tmp_path, GOOD.replace('"secrets/two"', f'"{target}"'))
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"k" * (64 * 1024 + 1))
    with pytest.raises(CorpsFileError, match=f"corp #2 \\(wwtwo\\): secret_file .*{reason}"):
        load_corps(path, environ=ENV)


def test_a_secret_file_of_the_largest_size_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    (tmp_path / "secrets" / "two").write_bytes(b"k" * (64 * 1024))
    assert load_corps(path, environ=ENV)[1].secret == "k" * (64 * 1024)


def test_a_corps_file_that_is_a_device_is_refused_unread() -> None:
    with pytest.raises(CorpsFileError, match="cannot read /dev/zero: not a regular file"):
        load_corps(Path("/dev/zero"), environ=ENV)


def test_entries_are_plain_values(tmp_path: Path) -> None:
    entry = load_corps(write(tmp_path, GOOD), environ=ENV)[0]
    assert isinstance(entry, CorpEntry)
    assert entry.label == "corp #1 (wwone)"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_one_display_has_a_line_per_corp() -> None:
    terminal = _Terminal()
    board = make_board(terminal, quiet=False)
    for corp_id, items in (("wwone", 40), ("wwtwo", 70)):
        progress = board.corp(corp_id)
        progress.start(title="customers", unit_label="follow-users", total=4, done=0, items=0)
        progress.update(done=4, items=items, pages=2)
        progress.close()  # one corp done: the display stays for the others
    board.close()
    shown = terminal.getvalue()
    assert "wwone customers" in shown
    assert "wwtwo customers" in shown
    assert "70 items" in shown


def test_plain_lines_start_with_the_corp() -> None:
    stream = io.StringIO()
    now = [0.0]
    board = make_board(stream, quiet=False, interval=5.0)
    assert isinstance(board.corp("x"), PlainProgress)
    progress = PlainProgress(stream, interval=5.0, clock=lambda: now[0], name="wwtwo")
    progress.start(title="customers", unit_label="follow-users", total=10, done=0, items=0)
    now[0] = 10.0
    progress.update(done=5, items=100, pages=3)
    assert stream.getvalue().startswith("wwtwo: customers: 5/10 follow-users, 3 pages, 100 items")
    assert isinstance(make_board(_Terminal(), quiet=True).corp("x"), NullProgress)
