"""The ``transfers`` export kind: customers awaiting a new member, and transfer results.

WeCom has no list of transfers: ``transfer_result`` (on-job, 在职继承) and
``resigned/transfer_result`` (离职继承) answer only for one handover / takeover pair,
which nothing else in the API names (a takeover member is not recorded anywhere WeCom
lists). So this kind exports:

* always, ``get_unassigned_list``: every customer of a resigned member that still awaits
  a new member (one unit, paged by cursor);
* for every pair of a pairs file (``--transfer-pairs FILE``: one
  ``handover_userid,takeover_userid`` per line; blank lines and lines starting with ``#``
  are skipped), both the on-job and the resigned results of that pair (two units each).
  The pairs are the ones your own calls of ``transfer_customer`` /
  ``resigned/transfer_customer`` used, or those of the ``transfer_fail`` callbacks.

Record (JSON Lines), one per customer::

    {"transfer": "unassigned" | "onjob" | "resigned",
     "handover_userid": "...", "takeover_userid": "..." | null,
     "customer": {...}}   # the get_unassigned_list info / the result's customer, as sent

CSV columns: ``transfer``, ``handover_userid``, ``takeover_userid``, ``external_userid``,
``status`` (1 done, 2 waiting, 3 refused by the customer, 4 the takeover member is at the
limit), ``takeover_time``, ``dimission_time`` (unassigned customers).

Docs: https://developer.work.weixin.qq.com/document/path/92124 (get_unassigned_list),
https://developer.work.weixin.qq.com/document/path/94088 (transfer_result),
https://developer.work.weixin.qq.com/document/path/94082 (resigned/transfer_result).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from .._client import WeComClient
from .._converter import to_dict
from .._exceptions import ValidationError
from ..models._base import JsonObject, JsonValue
from ..services.transfer import MAX_PAGE_SIZE
from ._checkpoint import lost
from ._job import Batch, Job, Unit
from ._userfile import read_regular

__all__ = ["TransfersJob", "read_pairs"]

UNASSIGNED: Final = "unassigned"
ONJOB: Final = "onjob"
RESIGNED: Final = "resigned"
#: The largest pairs file read (a pair is two userids: millions of pairs fit).
MAX_PAIRS_FILE: Final = 64 * 1024 * 1024

Pair = tuple[str, str]


def read_pairs(path: Path) -> list[Pair]:
    """The (handover, takeover) pairs of a pairs file, each once, in file order.

    Raises:
        ValidationError: a line that is not two non-empty userids, a file that is not
            UTF-8 text, or a line the CSV reader refuses (the message names the place).
        OSError: the file cannot be read, is not a regular file (a FIFO would block for
            ever) or is larger than :data:`MAX_PAIRS_FILE` (the command says so, naming
            the option).
    """
    try:
        text = read_regular(path, MAX_PAIRS_FILE).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    pairs: dict[Pair, None] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(reader, start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if len(cells) != 2 or not all(cells):
                raise ValidationError(
                    f"{path}, line {number}: expected handover_userid,takeover_userid"
                )
            pairs[(cells[0], cells[1])] = None
    except csv.Error as error:  # e.g. a field past the CSV reader's size limit
        raise ValidationError(f"{path}, line {reader.line_num}: {error}") from None
    return list(pairs)


def _text(spec: JsonObject, key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str):
        raise lost(key)
    return value


class TransfersJob(Job):
    """Unassigned customers of resigned members, and the results of the given pairs.

    Args:
        pairs: (handover_userid, takeover_userid) pairs whose results to read.
    """

    name = "transfers"
    unit_label = "lists"
    columns = (
        "transfer", "handover_userid", "takeover_userid", "external_userid", "status",
        "takeover_time", "dimission_time",
    )  # fmt: skip
    identity = ("transfer", "handover_userid", "takeover_userid", "external_userid")
    times = ("takeover_time", "dimission_time")

    def __init__(self, *, pairs: Iterable[Pair] = ()) -> None:
        self._pairs = list(dict.fromkeys(pairs))

    async def plan(self, client: WeComClient) -> list[Unit]:
        """The unassigned list, then an on-job and a resigned unit per pair."""
        return [Unit({"transfer": UNASSIGNED})] + [
            Unit({"transfer": kind, "handover_userid": handover, "takeover_userid": takeover})
            for handover, takeover in self._pairs
            for kind in (ONJOB, RESIGNED)
        ]

    def ids(self, spec: JsonObject) -> tuple[str, ...]:
        """The pair's userids (none for the unassigned list)."""
        if spec.get("transfer") == UNASSIGNED:
            return ()
        return (_text(spec, "handover_userid"), _text(spec, "takeover_userid"))

    async def fetch(self, client: WeComClient, spec: JsonObject, cursor: str | None) -> Batch:
        """``POST /cgi-bin/externalcontact/get_unassigned_list``, or
        ``POST /cgi-bin/externalcontact/transfer_result`` /
        ``POST /cgi-bin/externalcontact/resigned/transfer_result`` of the pair."""
        service = client.transfer
        kind = spec.get("transfer")
        if kind == UNASSIGNED:
            page = await service.get_unassigned_list(page_size=MAX_PAGE_SIZE, cursor=cursor)
            records: list[JsonObject] = [
                {
                    "transfer": UNASSIGNED,
                    "handover_userid": info.handover_userid,
                    "takeover_userid": None,
                    "customer": to_dict(info),
                }
                for info in page.items
            ]
            return Batch(records, page.next_cursor or None)
        handover, takeover = self.ids(spec)
        results = service.transfer_result if kind == ONJOB else service.resigned_transfer_result
        found = await results(handover, takeover, cursor=cursor)
        records = [
            {
                "transfer": str(kind),
                "handover_userid": handover,
                "takeover_userid": takeover,
                "customer": to_dict(status),
            }
            for status in found.items
        ]
        return Batch(records, found.next_cursor or None)

    def rows(self, record: JsonObject) -> list[Sequence[JsonValue]]:
        """One row per customer."""
        customer = record.get("customer")
        customer = customer if isinstance(customer, dict) else {}
        return [
            [
                *(record.get(k) for k in self.columns[:3]),
                *(customer.get(k) for k in self.columns[3:]),
            ]
        ]
