"""``mockidp.signatures``: the signer child's protocol, in memory and as the real process
``mockidp serve`` starts, and the deferred signing of ``mockidp.tokens``."""

from __future__ import annotations

import io
import subprocess

import jwt
import pytest

from mockidp import signatures
from mockidp.keys import SigningKey, pooled_key
from mockidp.tokens import (
    PLACEHOLDER_PREFIX,
    deferred_signing,
    settled,
    sign,
    sign_with_token_hash,
    token_hash,
)
from mockidp.web.signers import _CHILD


def frame(kind: int, number: int, payload: bytes) -> bytes:
    return signatures.REQUEST.pack(kind, number, len(payload)) + payload


def answers(raw: bytes) -> dict[int, bytes | None]:
    out: dict[int, bytes | None] = {}
    while raw:
        number, length = signatures.ANSWER.unpack_from(raw)
        size = signatures.ANSWER.size
        if length == signatures.FAILED:
            out[number], raw = None, raw[size:]
        else:
            out[number], raw = raw[size : size + length], raw[size + length :]
    return out


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_a_child_signs_what_pyjwt_verifies(alg: str) -> None:
    key = SigningKey(pooled_key(alg), alg)
    data = b"header.payload"
    requests = frame(signatures.LOAD_KEY, 7, signatures.key_payload(key.key.private_key, alg))
    requests += frame(signatures.SIGN, 1, signatures.KEY_NUMBER.pack(7) + data)
    out = io.BytesIO()
    signatures.serve(io.BytesIO(requests), out)
    signature = answers(out.getvalue())[1]
    assert signature is not None
    token = "header.payload." + jwt.utils.base64url_encode(signature).decode()
    public = jwt.PyJWK(key.public_jwk())
    algorithm = jwt.get_algorithm_by_name("EdDSA" if alg == "EdDSA" else alg)
    assert algorithm.verify(data, public.key, signature)
    assert token.count(".") == 2


def test_an_unknown_key_or_a_broken_key_is_answered_as_failed() -> None:
    requests = frame(signatures.LOAD_KEY, 1, b"RS256\nnot DER")
    requests += frame(signatures.SIGN, 5, signatures.KEY_NUMBER.pack(1) + b"x")
    requests += frame(signatures.SIGN, 6, signatures.KEY_NUMBER.pack(2) + b"x")
    out = io.BytesIO()
    signatures.serve(io.BytesIO(requests), out)
    assert answers(out.getvalue()) == {5: None, 6: None}


def test_a_truncated_request_ends_the_child_quietly() -> None:
    out = io.BytesIO()
    signatures.serve(io.BytesIO(frame(signatures.SIGN, 1, b"abcdef")[:-2]), out)
    assert out.getvalue() == b""


def test_the_real_child_process_signs_and_exits_on_eof() -> None:
    key = SigningKey(pooled_key("RS256"), "RS256")
    requests = frame(signatures.LOAD_KEY, 0, signatures.key_payload(key.key.private_key, "RS256"))
    requests += frame(signatures.SIGN, 3, signatures.KEY_NUMBER.pack(0) + b"a.b")
    done = subprocess.run(_CHILD, input=requests, capture_output=True, timeout=30, check=True)
    signature = answers(done.stdout)[3]
    assert signature is not None and signature == key.signer(b"a.b")  # type: ignore[misc]
    assert done.stderr == b""


def test_deferred_tokens_are_placeholders_until_settled() -> None:
    key = SigningKey(pooled_key("PS256"), "PS256")
    with deferred_signing() as batch:
        placeholder = sign({"sub": "a"}, key)
        assert placeholder.startswith(PLACEHOLDER_PREFIX)
        entry = batch.entry(placeholder)
        assert entry is not None and entry.token is None
        # a value the grant needs now is signed at once, and kept
        digest = token_hash(placeholder, "PS256")
        assert entry.token is not None
        assert digest == token_hash(entry.token, "PS256")
        assert settled(placeholder) == entry.token
        assert entry.finish(b"another signature") == entry.token
    assert jwt.decode(entry.token, jwt.PyJWK(key.public_jwk()).key, algorithms=["PS256"]) == {"sub": "a"}
    assert not sign({"sub": "a"}, key).startswith(PLACEHOLDER_PREFIX)  # outside the block
    with pytest.raises(RuntimeError, match="outside its deferred_signing block"):
        settled(placeholder)


def test_tokens_with_extra_header_parameters_are_never_deferred() -> None:
    key = SigningKey(pooled_key("RS256"), "RS256")
    with deferred_signing() as batch:
        token = sign({"sub": "a"}, key, header={"cty": "JWT"})
    assert not batch.pending and token.count(".") == 2


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_an_id_token_waits_for_the_access_token_its_at_hash_needs(alg: str) -> None:
    key = SigningKey(pooled_key(alg), alg)
    with deferred_signing() as batch:
        access = sign({"sub": "a"}, key)
        id_token = sign_with_token_hash({"sub": "a", "nonce": "n"}, key, token=access)
    first, second = batch.entry(access), batch.entry(id_token)
    assert first is not None and second is not None
    assert first.token is None and second.after is first and second.signing_input is None
    access_signed = first.sign_here()
    id_signed = second.sign_here()  # its claims are made only now
    public = jwt.PyJWK(key.public_jwk()).key
    claims = jwt.decode(id_signed, public, algorithms=[alg])
    assert claims == {"sub": "a", "nonce": "n", "at_hash": token_hash(access_signed, alg)}
    assert list(claims) == ["sub", "nonce", "at_hash"]


def test_outside_a_batch_the_at_hash_token_is_the_plain_one() -> None:
    key = SigningKey(pooled_key("RS256"), "RS256")  # deterministic signatures: same bytes
    access = sign({"sub": "a"}, key)
    plain = sign({"sub": "a", "at_hash": token_hash(access, "RS256")}, key)
    assert sign_with_token_hash({"sub": "a"}, key, token=access) == plain
