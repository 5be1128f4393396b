"""RS256 ID tokens: minted by the GitHub double, checked by the IAM and STS doubles against a JWKS.

Written on `cryptography` alone (already in the dev environment through PyJWT's crypto extra), so
the doubles share no code with whatever JWT handling the action may use. Verification follows what
an OIDC relying party must do: RS256 only (no `none`, no HMAC with the public key), the key found
by `kid` in the JWKS, then issuer, audience and the time claims.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
ALGORITHM = "RS256"


class InvalidIdToken(Exception):
    """An ID token that a relying party must refuse; `reason` is one short word for tests."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidIdToken("malformed", "a token segment is not base64url") from exc


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _b64_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with the key ID (`kid`) that token headers and the JWKS carry."""

    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid=uuid.uuid4().hex.upper()[:40], private=key)

    @classmethod
    def shared(cls) -> SigningKey:
        """One key per process: generating RSA keys is the slow part of starting a double."""
        return _shared_key()

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": ALGORITHM,
            "use": "sig",
            "kid": self.kid,
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
        }

    def sign(self, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None) -> str:
        head = {"typ": "JWT", "alg": ALGORITHM, "kid": self.kid, **(header or {})}
        signing_input = f"{_segment(head)}.{_segment(claims)}"
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


@functools.cache
def _shared_key() -> SigningKey:
    return SigningKey.generate()


def _segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def jwks(*keys: SigningKey) -> dict[str, list[dict[str, str]]]:
    """The JSON Web Key Set that publishes these keys' public halves."""
    return {"keys": [key.jwk() for key in keys]}


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, without checking anything: for tests and error messages."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidIdToken("malformed", "an ID token has three dot-separated segments")
    try:
        header, claims = (json.loads(b64url_decode(part)) for part in parts[:2])
    except ValueError as exc:
        raise InvalidIdToken("malformed", "the token header or claims are not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidIdToken("malformed", "the token header and claims must be JSON objects")
    return header, claims


def _public_key(key_set: Mapping[str, Any], kid: object) -> rsa.RSAPublicKey:
    keys = key_set.get("keys")
    if not isinstance(keys, list):
        raise InvalidIdToken("unknown-key", "the JWKS holds no keys")
    for jwk in keys:
        if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and jwk.get("kid") == kid:
            try:
                numbers = rsa.RSAPublicNumbers(_b64_int(jwk["e"]), _b64_int(jwk["n"]))
                return numbers.public_key()
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidIdToken("unknown-key", f"JWK {kid!r} is unusable") from exc
    raise InvalidIdToken("unknown-key", f"no key with kid {kid!r} in the JWKS")


def verify(
    token: str,
    key_set: Mapping[str, Any],
    *,
    issuer: str,
    audiences: Collection[str],
    now: float,
) -> dict[str, Any]:
    """The token's claims once signature, issuer, audience and validity period all check out.

    Raises InvalidIdToken naming the first check that failed.
    """
    header, claims = decode_unverified(token)
    if header.get("alg") != ALGORITHM:
        raise InvalidIdToken("algorithm", f"alg {header.get('alg')!r} is not {ALGORITHM}")
    public_key = _public_key(key_set, header.get("kid"))
    signing_input, _, signature = token.rpartition(".")
    try:
        public_key.verify(
            b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise InvalidIdToken("signature", "the token signature does not verify") from exc
    if claims.get("iss") != issuer:
        raise InvalidIdToken("issuer", f"iss {claims.get('iss')!r} is not {issuer!r}")
    aud = claims.get("aud")
    presented = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
    if not presented & set(audiences):
        raise InvalidIdToken("audience", f"aud {aud!r} is not an accepted client ID")
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if not isinstance(exp, int | float) or now >= exp:
        raise InvalidIdToken("expired", "the token has expired")
    if isinstance(nbf, int | float) and now < nbf:
        raise InvalidIdToken("not-yet-valid", "the token is not valid yet")
    return claims
