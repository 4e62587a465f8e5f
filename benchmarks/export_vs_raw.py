"""``wecom-async export customers`` against a naive raw loop, whole processes side by side.

A loopback server (``_canned_server.serve``: nginx if present, else an asyncio server of
canned bytes) answers ``gettoken``, a follow-user list of 50,000 userids, and the same
100-customer ``batch/get_by_user`` page (about 87 KB, both customer types, tags, profile
attributes, fields this release does not know) for every one of the 500 page requests.

Two commands run as subprocesses, alternating, ``--rounds`` times each:

* the export: ``python -m wecom_async export customers`` at concurrency 16, with a rate
  budget far above what loopback reaches (``--rate-limit``), so that the budget never
  waits: the comparison is of CPU, not of pacing;
* the raw loop (this file with ``--raw``): ``httpx.AsyncClient`` at concurrency 16,
  ``json.loads`` of each page, one ``json.dumps`` line per record to a file. No token
  refresh, retries, validation, checkpoint or lossless check.

Both outputs are checked to hold the same 50,000 records (parsed, in any order). The
ratio of the median wall times (interpreter start included for both) is the figure; the
ratio of CPU times (user + system, of each process) is printed beside it, as the one to
trust on a machine busy with other work::

    python benchmarks/export_vs_raw.py                 # 3 rounds
    python benchmarks/export_vs_raw.py --rounds 5 --profile export.prof
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _canned_server import serve

REPO = Path(__file__).resolve().parents[1]
CORP_ID, SECRET, TOKEN = "wwbench", "bench-secret-0123456789", "BENCH-ACCESS-TOKEN-0123456789"
GET_BY_USER = "/cgi-bin/externalcontact/batch/get_by_user"
FOLLOW_LIST = "/cgi-bin/externalcontact/get_follow_user_list"
CONCURRENCY = 16
#: Far above what the loopback reaches, so the export's rate budget never waits.
BUDGET = 100_000_000


MINIPROGRAM = {"appid": "wx8bd80126147dFAKE", "pagepath": "/index", "title": "my"}


def _customer(rng: random.Random, i: int) -> dict[str, object]:
    wecom_user = i % 3 == 0  # a WeCom user (type 2) has a corp and a profile
    contact: dict[str, object] = {
        "external_userid": f"wmAJ2GCAAA{i:06d}XtWyujaWJHDDGi0mACH",
        "name": rng.choice(["李四", "王小明", "Zhang San", "陈🙂", "林 · 晓"]) + str(i),
        "avatar": f"http://wx.qlogo.cn/mmhead/{'Q3auHgzwzM6' * 3}{i}/0",
        "type": 2 if wecom_user else 1,
        "gender": rng.choice([0, 1, 2]),
        "unionid": f"ozynqsulJFCZ2z1aYeS8h-nuasdA{i}",
    }
    if wecom_user:
        contact |= {
            "position": "Mangaer",
            "corp_name": "腾讯",
            "corp_full_name": "腾讯科技有限公司",
            "external_profile": {
                "external_attr": [
                    {"type": 0, "name": "文本名称", "text": {"value": "文本"}},
                    {"type": 1, "name": "网页名称", "web": {"url": "http://t.cn", "title": "t"}},
                    {"type": 2, "name": "测试app", "miniprogram": MINIPROGRAM},
                ],
            },
        }  # fmt: skip
    follow: dict[str, object] = {
        "userid": f"zhangsan{i % 50}",
        "remark": "李部长",
        "description": "对接采购事务" * rng.randint(1, 2),
        "createtime": 1525779812 + i,
        "tag_id": [f"etAJ2GCAAAXtWyujaWJHDDGi0mACHAA{t}" for t in range(rng.randint(0, 4))],
        "remark_corp_name": "腾讯科技",
        "remark_mobiles": ["13800000001", "13000000002"],
        "oper_userid": "rocky",
        "add_way": rng.choice([0, 1, 2, 3, 201]),
        "state": "外联二维码1",
        # Fields this release does not know: they must come out exactly as sent.
        "wechat_channels": {"nickname": "视频号名称", "source": 1},
        "follow_extra_v2": {"channel": None, "scores": [1, 2.5, None], "ok": True},
    }
    return {"external_contact": contact, "follow_info": follow, "lifecycle_stage": i % 4}


def page_body(items: int = 100) -> bytes:
    """The canned ``batch/get_by_user`` answer (deterministic)."""
    rng = random.Random(12)
    page = {
        "errcode": 0,
        "errmsg": "ok",
        "external_contact_list": [_customer(rng, i) for i in range(items)],
        "next_cursor": "",
        "fail_info": {"unlicensed_userid_list": []},
    }
    return json.dumps(page, ensure_ascii=False).encode()


def bodies(members: int) -> dict[str, bytes]:
    """Path -> canned answer."""
    token = {"errcode": 0, "errmsg": "ok", "access_token": TOKEN, "expires_in": 7200}
    follow = {"errcode": 0, "errmsg": "ok", "follow_user": [f"m{i:06d}" for i in range(members)]}
    return {
        "/cgi-bin/gettoken": json.dumps(token).encode(),
        FOLLOW_LIST: json.dumps(follow).encode(),
        GET_BY_USER: page_body(),
    }


# -- the naive raw loop (run in its own process with --raw) -------------------------------


async def raw_loop(base_url: str, output: Path) -> int:
    """Token, follow-users, then every 100-member chunk's pages; one line per record."""
    written = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        secret = {"corpid": CORP_ID, "corpsecret": SECRET}
        answer = await http.get("/cgi-bin/gettoken", params=secret)
        token = json.loads(answer.content)["access_token"]
        answer = await http.get(FOLLOW_LIST, params={"access_token": token})
        members = json.loads(answer.content)["follow_user"]
        chunks: Iterator[list[str]] = (members[i : i + 100] for i in range(0, len(members), 100))
        # Blocking writes, as a naive script does (the export's writes block too).
        with open(output, "w", encoding="utf-8") as out:  # noqa: ASYNC230

            async def worker() -> None:
                nonlocal written
                for chunk in chunks:
                    cursor = ""
                    while True:
                        body = {"userid_list": chunk, "limit": 100, "cursor": cursor}
                        query = {"access_token": token}
                        answer = await http.post(GET_BY_USER, params=query, json=body)
                        data = json.loads(answer.content)
                        for record in data["external_contact_list"]:
                            out.write(json.dumps(record) + "\n")
                            written += 1
                        cursor = data.get("next_cursor") or ""
                        if not cursor:
                            break

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return written


# -- the comparison ------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["WECOM_SECRET"] = SECRET
    return env


def _export_command(url: str, output: Path, profile: str | None) -> list[str]:
    prefix = [sys.executable, "-m"] + (["cProfile", "-o", profile, "-m"] if profile else [])
    return [
        *prefix, "wecom_async", "export", "customers", "--base-url", url, "--corp-id", CORP_ID,
        "-o", str(output), "--quiet", "--force", "--concurrency", str(CONCURRENCY),
        "--rate-limit", str(BUDGET), "--hourly-rate-limit", str(BUDGET),
    ]  # fmt: skip


def _timed(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return its wall time and its CPU time (user + system), in seconds."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    _, stderr = child.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:4]} failed: {stderr[-2000:]!r}")
    return wall, usage.ru_utime + usage.ru_stime


def _records(path: Path) -> list[str]:
    """The records of an output, each as canonical JSON text, sorted."""
    with open(path, encoding="utf-8") as lines:
        return sorted(json.dumps(json.loads(line), sort_keys=True) for line in lines)


def main() -> None:
    """Serve, run both commands ``--rounds`` times alternating, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000, help="follow-users (default 50,000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command (default 3)")
    parser.add_argument("--profile", metavar="PATH", help="cProfile the last export into PATH")
    parser.add_argument("--raw", nargs=2, metavar=("URL", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw:
        print(asyncio.run(raw_loop(args.raw[0], Path(args.raw[1]))))
        return
    canned = bodies(args.members)
    print(
        f"{args.members:,} follow-users, {args.members // 100} pages of "
        f"{len(canned[GET_BY_USER]):,} bytes, concurrency {CONCURRENCY}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    walls: dict[str, list[float]] = {"export": [], "raw": []}
    cpus: dict[str, list[float]] = {"export": [], "raw": []}
    with serve(canned) as url, tempfile.TemporaryDirectory() as tmp:
        export_out, raw_out = Path(tmp) / "export.jsonl", Path(tmp) / "raw.jsonl"
        raw_command = [sys.executable, __file__, "--raw", url, str(raw_out)]
        for round_ in range(args.rounds):
            profile = args.profile if args.profile and round_ == args.rounds - 1 else None
            for name, command in (
                ("export", _export_command(url, export_out, profile)),
                ("raw", raw_command),
            ):
                wall, cpu = _timed(command)
                walls[name].append(wall)
                cpus[name].append(cpu)
        exported, raw = _records(export_out), _records(raw_out)
    if exported != raw or len(exported) != args.members:
        raise SystemExit(f"the outputs differ: {len(exported):,} and {len(raw):,} records")
    print(f"both outputs hold the same {len(exported):,} records\n")
    print("| command | wall s (each round) | median wall | median CPU s |")
    print("|---|---|---:|---:|")
    for name in walls:
        each = ", ".join(f"{w:.2f}" for w in walls[name])
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"| {name} | {each} | {wall:.2f} | {cpu:.2f} |")
    ratio = statistics.median(walls["export"]) / statistics.median(walls["raw"])
    cpu_ratio = statistics.median(cpus["export"]) / statistics.median(cpus["raw"])
    print(f"\nexport / raw loop: {ratio:.2f}x wall (target at most 1.3x), {cpu_ratio:.2f}x CPU")


if __name__ == "__main__":
    main()
