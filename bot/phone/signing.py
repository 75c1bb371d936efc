"""Alibaba Cloud RPC request signing (signature version 1.0, HMAC-SHA1), as documented for every
RPC-style API (dyvmsapi, dysmsapi):

    canonical     = "&".join(enc(k) + "=" + enc(v) for k, v in sorted(params))   (no Signature)
    string_to_sign = METHOD + "&" + enc("/") + "&" + enc(canonical)
    Signature     = base64(HMAC-SHA1(AccessKeySecret + "&", string_to_sign))

`enc` is RFC 3986 percent-encoding of UTF-8 (space → %20, * → %2A, ~ kept). The same functions
check signatures in the provider sandbox (bot/sandbox/voice/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from urllib.parse import quote


def encode(value: str) -> str:
    return quote(str(value), safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    return f"{method.upper()}&{encode('/')}&{encode(canonical)}"


def signature(secret: str, method: str, params: dict[str, str]) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_params(action: str, version: str, access_key_id: str, secret: str, params: dict[str, str],
                  method: str = "POST", region: str = "cn-hangzhou", now: datetime | None = None) -> dict[str, str]:
    """The request's parameters with the common ones and the Signature added."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    out = {
        "Action": action, "Version": version, "Format": "JSON", "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "RegionId": region,
        **{k: str(v) for k, v in params.items()},
    }
    out["Signature"] = signature(secret, method, out)
    return out


def verify(secret: str, method: str, params: dict[str, str]) -> bool:
    given = params.get("Signature", "")
    return bool(given) and hmac.compare_digest(given, signature(secret, method, params))
