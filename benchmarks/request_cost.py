"""CPU time per token request of ``mockidp serve``, split by thread: a measure that holds still
on a shared machine, where tokens per second do not.

``mockidp serve`` runs in a subprocess and wrk (or, without it, an aiohttp generator) sends it
client-credentials requests; the server's on-CPU time per thread is read from
``/proc/<pid>/task/<tid>/schedstat`` (nanoseconds) before and after, and divided by the
number of answered requests; so is the time of its signer processes (``mockidp.web.signers``).
The event loop's thread is what limits throughput once signing runs elsewhere, so it is
reported on its own.

    .venv/bin/python benchmarks/request_cost.py [--alg RS256] [--duration 5] [--rounds 3] [--signers N]

Linux only (schedstat). Other work on the machine changes these figures much less than it
changes throughput, since only the server's own CPU time is counted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from pathlib import Path

from throughput import load_generator, running, serve_command


def thread_ns(pid: int) -> dict[int, int]:
    """On-CPU nanoseconds of every thread of ``pid``."""
    out: dict[int, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            out[int(tid)] = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
    return out


def process_ns(pids: list[int]) -> dict[tuple[int, int], int]:
    """On-CPU nanoseconds of every thread of every process in ``pids``, by (pid, tid)."""
    return {(pid, tid): ns for pid in pids for tid, ns in thread_ns(pid).items()}


def children_of(pid: int) -> list[int]:
    """The signer processes of ``mockidp serve`` (``mockidp.web.signers``)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def server_pid(issuer_port: str) -> int:
    """The pid of the ``mockidp serve`` listening on ``issuer_port`` (our child)."""
    me = os.getpid()
    for child in Path(f"/proc/{me}/task/{me}/children").read_text().split():
        cmd = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if any(part.endswith(b"mockidp") for part in cmd) and b"serve" in cmd:
            return int(child)
    raise SystemExit(f"no mockidp serve child found (port {issuer_port})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alg", default="RS256", help="signing_alg (RS256, ES256, EdDSA)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--generator", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument("--signers", type=int, help="passed to mockidp serve (default: its own)")
    args = parser.parse_args()
    generator, load = load_generator(args.generator)
    serve = serve_command(args.alg, args.signers)
    loop_us: list[float] = []
    other_us: list[float] = []
    signer_us: list[float] = []
    with running(serve, "mockidp serve") as issuer:
        pid = server_pid(issuer.rsplit(":", 1)[1])
        url = f"{issuer}/token"
        load("warm-up", url, args.concurrency, 2)
        print(
            f"generator: {generator}, concurrency {args.concurrency}, {args.alg}, {args.duration:g} s a round"
        )
        signer_pids = children_of(pid)
        print(f"signer processes: {len(signer_pids)}")
        print("| round | requests | failed | loop thread | other threads | signer processes | total |")
        print("|---|---|---|---|---|---|---|")
        for i in range(args.rounds):
            before = process_ns([pid, *signer_pids])
            result = load("mockidp", url, args.concurrency, args.duration)
            after = process_ns([pid, *signer_pids])
            answered = result.ok + result.failed
            spent = {key: (ns - before.get(key, 0)) / answered / 1000 for key, ns in after.items()}
            loop = spent.get((pid, pid), 0.0)
            other = sum(us for (owner, tid), us in spent.items() if owner == pid and tid != pid)
            signing = sum(us for (owner, _), us in spent.items() if owner != pid)
            loop_us.append(loop)
            other_us.append(other)
            signer_us.append(signing)
            print(
                f"| {i + 1} | {answered} | {result.failed} | {loop:.0f} | {other:.0f} | {signing:.0f} "
                f"| {loop + other + signing:.0f} |"
            )
    totals = [a + b + c for a, b, c in zip(loop_us, other_us, signer_us, strict=True)]
    print(
        f"median, us of CPU per request: loop thread {statistics.median(loop_us):.0f}, other threads "
        f"{statistics.median(other_us):.0f}, signer processes {statistics.median(signer_us):.0f}, "
        f"total {statistics.median(totals):.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
