"""Ed25519 signature checks with ``cryptography`` (the standard library has no Ed25519).

``ed25519_verify`` satisfies ``wagerkit.domain.telegram.Ed25519Verifier``: pass it as
``verify_init_data(..., bot_id=..., ed25519=ed25519_verify)`` to check the third-party
``signature`` of Telegram Mini App data.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["ed25519_verify"]

_KEY_BYTES = 32
_SIGNATURE_BYTES = 64


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """``True`` if ``signature`` is a valid Ed25519 signature of ``message`` by the raw
    32-byte ``public_key``; ``False`` otherwise, including for a malformed key or signature.
    Never raises."""
    try:
        if len(public_key) != _KEY_BYTES or len(signature) != _SIGNATURE_BYTES:
            return False
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(
            bytes(signature), bytes(message)
        )
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
