"""Client-credentials tokens per second: ``mockidp serve`` next to npm's oauth2-mock-server.

Both servers run on 127.0.0.1 on this machine and are driven by the SAME load generator in
one run (wrk with a Lua POST script when installed, else a Python aiohttp generator), with a
fixed concurrency and duration, alternating servers for several rounds. Only 200 answers count.

    .venv/bin/python benchmarks/throughput.py [--duration 10] [--concurrency 16] [--rounds 2]
        [--cores 1,all] [--alg RS256] [--signers N]

The peer is installed with npm into benchmarks/.peer (gitignored) on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / ".peer"
PEER_PACKAGE = "oauth2-mock-server@8"
BODY = "grant_type=client_credentials&resource=demo-api"
BASIC = "Basic " + base64.b64encode(b"demo-agent:demo-agent-secret").decode()


@dataclass
class Result:
    server: str
    generator: str
    ok: int
    failed: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


def ensure_peer() -> None:
    if (PEER_DIR / "node_modules" / "oauth2-mock-server").is_dir():
        return
    PEER_DIR.mkdir(exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund", PEER_PACKAGE], check=True
    )


@contextmanager
def running(args: list[str], name: str) -> Iterator[str]:
    """Start a server process and yield its issuer once it prints ``issuer: <URL>``."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("issuer: "):
                issuer = line.split(" ", 1)[1].strip().replace("//localhost:", "//127.0.0.1:")
                break
        else:
            raise SystemExit(f"{name} exited before printing its issuer")
        assert issuer.startswith("http://127.0.0.1:"), issuer  # loopback only
        yield issuer
    finally:
        proc.terminate()
        proc.wait(10)


async def _aiohttp_load(url: str, concurrency: int, duration: float) -> tuple[int, int, list[float]]:
    ok = failed = 0
    latencies: list[float] = []
    headers = {"Authorization": BASIC, "Content-Type": "application/x-www-form-urlencoded"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal ok, failed
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(url, data=BODY, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        ok += 1
                        latencies.append(time.perf_counter() - started)
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, failed, latencies


def load_aiohttp(server: str, url: str, concurrency: int, duration: float) -> Result:
    started = time.perf_counter()
    ok, failed, lat = asyncio.run(_aiohttp_load(url, concurrency, duration))
    seconds = time.perf_counter() - started
    lat.sort()
    p50 = statistics.median(lat) * 1000 if lat else None
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else None
    return Result(server, "aiohttp", ok, failed, seconds, p50, p99)


LUA = f"""
wrk.method = "POST"
wrk.body = "{BODY}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "{BASIC}"
"""


def load_wrk(server: str, url: str, concurrency: int, duration: float) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{concurrency}", f"-d{int(duration)}s", "--latency", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed += sum(int(g) for g in errors.groups()) if errors else 0
    return Result(server, "wrk", total - failed, failed, duration, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"))


def _wrk_ms(out: str, pct: str) -> float | None:
    found = re.search(rf"{re.escape(pct)}\s+([\d.]+)(us|ms|s)\b", out)
    if not found:
        return None
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def load_generator(choice: str) -> tuple[str, Callable[[str, str, int, float], Result]]:
    """The load generator's name and function: wrk when installed (``auto``), else aiohttp."""
    generator = ("wrk" if shutil.which("wrk") else "aiohttp") if choice == "auto" else choice
    return generator, load_wrk if generator == "wrk" else load_aiohttp


def serve_command(alg: str, signers: int | None = None, folder: Path | None = None) -> list[str]:
    """``mockidp serve`` on a free port with the demo config signing with ``alg`` (login: auto),
    written to ``folder`` (a new temporary one by default); ``--signers`` when given."""
    config = (folder or Path(tempfile.mkdtemp())) / "bench.yaml"
    demo = (HERE.parent / "mockidp" / "demo.yaml").read_text("utf-8")
    config.write_text(f"signing_alg: {alg}\nlogin: auto\n{demo}", encoding="utf-8")
    serve = [str(Path(sys.executable).with_name("mockidp")), "serve", "--port", "0", "--config", str(config)]
    return serve if signers is None else [*serve, "--signers", str(signers)]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, node {node}, {platform.system()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="connections kept busy")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per server")
    parser.add_argument("--generator", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument(
        "--cores",
        default="all",
        help="comma-separated CPU counts mockidp may use (taskset), e.g. 1,all; the peer always gets all",
    )
    parser.add_argument("--alg", default="RS256", help="mockidp's signing_alg (RS256, ES256, EdDSA)")
    parser.add_argument(
        "--target", type=float, default=1.5, help="exit 1 below this ratio to the peer (issue 11: 1.5)"
    )
    parser.add_argument(
        "--signers", type=int, help="mockidp serve --signers (default: its own; 0 signs on threads)"
    )
    args = parser.parse_args()
    generator, load = load_generator(args.generator)
    ensure_peer()
    serve = serve_command(args.alg, args.signers)
    peer = ["node", str(HERE / "peer_server.mjs"), "0"]
    every = sorted(os.sched_getaffinity(0))
    results: list[Result] = []
    ours_names = []
    with contextlib.ExitStack() as stack:
        targets = []
        for cores in args.cores.split(","):
            count = len(every) if cores == "all" else int(cores)
            pinned = ["taskset", "-c", ",".join(map(str, every[:count]))] if count < len(every) else []
            name = f"mockidp serve {args.alg} ({count} core{'s' if count > 1 else ''})"
            url = stack.enter_context(running([*pinned, *serve], name))
            targets.append((name, f"{url}/token"))
            ours_names.append(name)
        theirs = stack.enter_context(running(peer, "oauth2-mock-server"))
        targets.append(("oauth2-mock-server", f"{theirs}/token"))
        for name, url in targets:  # warm-up: JIT, key caches, connection setup
            load(name, url, args.concurrency, 2)
        for _ in range(args.rounds):
            for name, url in targets:
                results.append(load(name, url, args.concurrency, args.duration))
    print(f"machine: {machine()}")
    print(f"generator: {generator}, concurrency {args.concurrency}, {args.duration:g} s per run")
    print("| server | round | tokens/s | failed | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for i, r in enumerate(results):
        p50 = f"{r.p50_ms:.2f}" if r.p50_ms is not None else "-"
        p99 = f"{r.p99_ms:.2f}" if r.p99_ms is not None else "-"
        print(f"| {r.server} | {i // len(targets) + 1} | {r.rate:.0f} | {r.failed} | {p50} | {p99} |")
    best = {name: max(r.rate for r in results if r.server == name) for name, _ in targets}
    peer_best = best["oauth2-mock-server"]
    for name in ours_names:
        print(f"best: {name} {best[name]:.0f}/s, peer {peer_best:.0f}/s, ratio {best[name] / peer_best:.2f}")
    ratio = best[ours_names[-1]] / peer_best
    return 0 if ratio >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
