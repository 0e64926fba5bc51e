"""Instructions per token request of ``mockidp serve``, counted by callgrind: a figure that does
not move with other work on the machine, for comparing two versions of the token path.

``mockidp serve`` runs under ``valgrind --tool=callgrind --separate-threads=yes``; after a
warm-up, the counters are zeroed, ``--requests`` client-credentials requests are sent over
``--concurrency`` keep-alive connections, and the counters are dumped. Reported per request:
the event loop's thread, the grant workers, the RSA (or EC/Ed25519) signature inside OpenSSL
(``EVP_PKEY_sign``, the same for every version), and what is left: the non-signing work.

    .venv/bin/python benchmarks/request_instructions.py [--requests 200] [--concurrency 4] [--signers N]

By default ``mockidp serve`` signs in child processes, which callgrind does not follow: the
loop thread then holds all the non-signing work. ``--signers 0`` signs on threads, traced.

Needs valgrind (callgrind_control, callgrind_annotate). Slow: a few minutes, mostly start-up.
To measure another version, run this script with ``PYTHONPATH`` pointing at that checkout.
"""

from __future__ import annotations

import argparse
import base64
import glob
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from throughput import serve_command

BODY = "grant_type=client_credentials&resource=demo-api"
HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "Basic " + base64.b64encode(b"demo-agent:demo-agent-secret").decode(),
}


def send(port: int, total: int, concurrency: int) -> None:
    """``total`` token requests over ``concurrency`` keep-alive connections; all must be 200."""
    failures: list[int] = []

    def one_connection(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for _ in range(count):
            conn.request("POST", "/token", BODY, HEADERS)
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                failures.append(answer.status)
        conn.close()

    threads = [
        threading.Thread(target=one_connection, args=(total // concurrency,)) for _ in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} answers were not 200: {sorted(set(failures))}")


def summary(path: str) -> int:
    found = re.search(r"^summary: (\d+)", Path(path).read_text(), re.M)
    return int(found.group(1)) if found else 0


def signing(path: str) -> int:
    """Instructions spent inside OpenSSL's EVP_PKEY_sign in one thread's dump."""
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*EVP_PKEY_sign \[", out, re.M)
    return int(found.group(1).replace(",", "")) if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--alg", default="RS256", help="signing_alg (RS256, ES256, EdDSA)")
    parser.add_argument(
        "--signers",
        type=int,
        help="passed to mockidp serve; its signer processes are not traced (0: threads, counted)",
    )
    args = parser.parse_args()
    total = args.requests - args.requests % args.concurrency
    work = Path(tempfile.mkdtemp(prefix="mockidp-callgrind-"))
    serve = serve_command(args.alg, args.signers, work)
    valgrind = [
        "valgrind",
        "--tool=callgrind",
        "--separate-threads=yes",
        f"--callgrind-out-file={work}/cg.out.%p",
        sys.executable,
        *serve,
    ]
    proc = subprocess.Popen(valgrind, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("issuer: "):
                port = int(line.rsplit(":", 1)[1].strip().split("/")[0])
                break
        else:
            raise SystemExit("mockidp serve exited under valgrind before printing its issuer")
        send(port, 40, args.concurrency)  # warm-up: imports, caches, the workers' start
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        send(port, total, args.concurrency)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
    finally:
        proc.terminate()
        proc.wait(120)
    dumps = sorted(glob.glob(f"{work}/cg.out.{proc.pid}.1-*"))  # part 1 (the dump), one file per thread
    if not dumps:
        raise SystemExit(f"no callgrind dump in {work}")
    loop = summary(dumps[0])  # thread 1: the main thread, where the event loop runs
    workers = sum(summary(d) for d in dumps[1:])
    signed = sum(signing(d) for d in dumps)
    per = 1000 * total
    print(
        f"{total} requests, concurrency {args.concurrency}, {args.alg}; instructions per request (thousands):"
    )
    print(f"  event loop thread            {loop / per:8.0f}k")
    print(f"  grant workers                {workers / per:8.0f}k")
    print(f"  of these, signing (OpenSSL)  {signed / per:8.0f}k")
    print(f"  non-signing work             {(loop + workers - signed) / per:8.0f}k")
    if not signed:
        print("  (the signatures were made in signer processes, which callgrind does not trace)")
    print(f"  (callgrind files: {work})")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
