"""https on loopback: a local certificate authority, made once per user cache dir.

mockidp serves https (``MockIdP(tls=True)``, ``mockidp serve --tls``) with a leaf certificate
for ``127.0.0.1``, ``::1`` and ``localhost`` signed by this CA, and issues certificates for a
test's own https servers (a client's metadata-document host, an MCP server) with
:func:`issue_cert`. Clients trust it with ``verify=mockidp.ca_path()`` (requests) or
``verify=mockidp.ssl_context()`` (httpx); mockidp's own outbound fetches trust it too.

Where: ``$MOCKIDP_CACHE_DIR/ca`` when set (tests point it at a temporary directory), else the
user cache dir (``$XDG_CACHE_HOME/mockidp``, ``~/.cache/mockidp``; ``~/Library/Caches`` on
macOS, ``%LOCALAPPDATA%`` on Windows). The CA key is written 0600 and never leaves the machine;
the CA is constrained to end-entity certificates (``path_length=0``). Creation is atomic
(a directory renamed into place), so parallel test workers agree on one CA.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import re
import secrets
import shutil
import ssl
import sys
import tempfile
import threading

try:
    import fcntl
except ImportError:  # Windows: threads are still serialised
    fcntl = None  # type: ignore[assignment]
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .clock import wall_time
from .errors import MockIdPError

CACHE_DIR_ENV = "MOCKIDP_CACHE_DIR"
#: the names every loopback server certificate carries
LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
CA_DAYS = 3650
LEAF_DAYS = 365
#: a leaf this close to expiry is issued afresh
RENEW_BEFORE = datetime.timedelta(days=7)

_lock = threading.Lock()
_server_contexts: dict[tuple[str, tuple[str, ...]], ssl.SSLContext] = {}


@dataclass(frozen=True, slots=True)
class IssuedCert:
    """A server certificate (PEM chain: leaf then CA) and its private key (PEM, 0600)."""

    cert_path: Path
    key_path: Path
    hosts: tuple[str, ...]

    def server_context(self) -> ssl.SSLContext:
        """An ``SSLContext`` for a server presenting this certificate (aiohttp, uvicorn...)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def cache_dir() -> Path:
    """mockidp's cache directory: ``$MOCKIDP_CACHE_DIR``, else the platform's user cache dir."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "mockidp" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mockidp"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache") / "mockidp"


def ca_dir() -> Path:
    return cache_dir() / "ca"


def ca_path() -> str:
    """The local CA's certificate (PEM), made on first use: what clients are told to trust."""
    _ca()
    return str(ca_dir() / "ca.pem")


def ssl_context() -> ssl.SSLContext:
    """A client ``SSLContext`` trusting the system's CAs and mockidp's local CA."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=ca_path())
    return context


def issue_cert(host: str = "127.0.0.1", *more_hosts: str) -> IssuedCert:
    """A server certificate for ``host`` (and ``more_hosts``) signed by the local CA.

    Kept under the cache dir and reused until a week before it expires; names may be IP
    addresses or DNS names. ``issue_cert()`` covers ``127.0.0.1`` only; pass ``"localhost"``
    or ``"::1"`` as well when a client connects by those names.
    """
    hosts = _unique_hosts((host, *more_hosts))
    directory = cache_dir() / "certs" / _slug(hosts)
    ca_cert, ca_key = _ca()

    def make(target: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _leaf_certificate(hosts, key, ca_cert, ca_key)
        chain = leaf.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
            serialization.Encoding.PEM
        )
        _write(target / "cert.pem", chain, 0o644)
        _write(target / "key.pem", _key_pem(key), 0o600)

    def usable(target: Path) -> bool:
        try:
            leaf = x509.load_pem_x509_certificate((target / "cert.pem").read_bytes())
        except (OSError, ValueError):
            return False
        fresh = leaf.not_valid_after_utc - _now() > RENEW_BEFORE
        return fresh and leaf.issuer == ca_cert.subject and (target / "key.pem").is_file()

    _materialise(directory, make, usable)
    return IssuedCert(directory / "cert.pem", directory / "key.pem", hosts)


def server_context(hosts: Sequence[str] = LOOPBACK_NAMES) -> ssl.SSLContext:
    """The server ``SSLContext`` mockidp's own listeners use (one per process and CA dir)."""
    key = (str(ca_dir()), _unique_hosts(hosts))
    with _lock:
        context = _server_contexts.get(key)
    if context is None:
        context = issue_cert(*key[1]).server_context()
        with _lock:
            _server_contexts[key] = context
    return context


def trusted_client_context() -> ssl.SSLContext:
    """What mockidp's own fetches trust: the system's CAs, plus the local CA when it exists
    (a CA that was never made signed nothing, so nothing is created just to fetch)."""
    context = ssl.create_default_context()
    pem = ca_dir() / "ca.pem"
    if pem.is_file():
        # a damaged CA file trusts nothing extra; the system store still applies
        with contextlib.suppress(OSError, ssl.SSLError):
            context.load_verify_locations(cafile=str(pem))
    return context


def client_env() -> dict[str, str]:
    """Environment for a process that must trust mockidp's https servers (an agent or API that
    ``check-agent``/``check-api --tls`` start): ``MOCKIDP_CA_FILE`` names the CA;
    ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` (OpenSSL, Python, curl, requests) a bundle of the
    system's CAs plus mockidp's; ``NODE_EXTRA_CA_CERTS`` (Node adds it to its own) the CA."""
    ca = ca_path()
    bundle = ca_dir() / "bundle.pem"
    system = ssl.get_default_verify_paths().cafile
    try:
        parts = [Path(system).read_bytes()] if system and Path(system).is_file() else []
        data = b"\n".join([*parts, Path(ca).read_bytes()])
        if not bundle.is_file() or bundle.read_bytes() != data:
            tmp = bundle.with_name(f".bundle-{secrets.token_hex(4)}")
            _write(tmp, data, 0o644)
            tmp.replace(bundle)
    except OSError as exc:
        raise MockIdPError(f"cannot write {bundle}: {exc.strerror}") from None
    return {
        "MOCKIDP_CA_FILE": ca,
        "SSL_CERT_FILE": str(bundle),
        "REQUESTS_CA_BUNDLE": str(bundle),
        "NODE_EXTRA_CA_CERTS": ca,
    }


# --- the CA -------------------------------------------------------------------------------------


def _ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    directory = ca_dir()

    def make(target: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mockidp"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"mockidp local CA {secrets.token_hex(4)}"),
            ]
        )
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write(target / "ca-key.pem", _key_pem(key), 0o600)
        _write(target / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)

    def usable(target: Path) -> bool:
        try:
            cert = x509.load_pem_x509_certificate((target / "ca.pem").read_bytes())
        except (OSError, ValueError):
            return False
        return cert.not_valid_after_utc > _now() + RENEW_BEFORE and (target / "ca-key.pem").is_file()

    _materialise(directory, make, usable)
    try:
        cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise MockIdPError(f"cannot read mockidp's local CA in {directory}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise MockIdPError(f"mockidp's local CA key in {directory} is not an EC key; delete the directory")
    return cert, key


def _leaf_certificate(
    hosts: tuple[str, ...],
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    now = _now()
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


# --- files --------------------------------------------------------------------------------------


def _materialise(directory: Path, make: Callable[[Path], None], usable: Callable[[Path], bool]) -> None:
    """Make ``directory`` with ``make(tmp)`` unless it is already ``usable``.

    Parallel test workers (processes and threads) may all ask at once: an exclusive lock on a
    file beside it makes the check and the swap one step, so exactly one CA (or certificate)
    lands and everyone uses it; the rename keeps readers from ever seeing half a directory.
    """
    if directory.is_dir() and usable(directory):
        return
    try:
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(directory.parent / f"{directory.name}.lock"):
            if directory.is_dir() and usable(directory):
                return  # another worker made it while this one waited for the lock
            tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=directory.parent))
            try:
                make(tmp)
                if directory.exists():
                    stale = directory.with_name(f".old-{directory.name}-{secrets.token_hex(4)}")
                    directory.rename(stale)
                    shutil.rmtree(stale, ignore_errors=True)
                tmp.rename(directory)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise MockIdPError(f"cannot write mockidp's cache dir {directory.parent}: {exc.strerror}") from None
    if not usable(directory):
        raise MockIdPError(f"cannot set up {directory}; delete it and try again")


_thread_lock = threading.RLock()  # re-entrant: a certificate's make() may set up the CA


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between threads and processes (``flock``; threads only where it is
    missing)."""
    with _thread_lock, open(path, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # whatever the umask made of it


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _unique_hosts(hosts: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for host in hosts:
        name = host.strip().strip("[]").lower()
        if not name or not re.fullmatch(r"[a-z0-9.:_*-]+", name):
            raise MockIdPError(f"{host!r} is not a host name or IP address")
        if name not in out:
            out.append(name)
    return tuple(out)


def _slug(hosts: tuple[str, ...]) -> str:
    return "_".join(re.sub(r"[^a-z0-9.-]", "-", h) for h in hosts)[:120]


def _now() -> datetime.datetime:
    """The real time: certificates are checked by peers against their clocks, never the mock one."""
    return datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
