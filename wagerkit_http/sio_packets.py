"""Socket.IO packets a hostile client cannot turn into server errors.

python-socketio decodes a packet's JSON before any handler runs, so a payload nested past the
recursion limit, an integer longer than Python converts (4,300 digits) or an event packet that
is not ``["name", ...]`` raised inside the library: the message was dropped with a traceback
in the log and the client, waiting for its acknowledgement, heard nothing.

``SafePacket`` decodes the same way but turns such a packet into the event
``MALFORMED_EVENT`` (the packet's ack id kept), nested deeper than ``MAX_JSON_DEPTH`` included;
``harden(sio)`` installs it and a handler that acknowledges with the refusal every handler
uses, ``{"error": {"code": "malformed_json", "message"}}``. A malformed ``connect`` payload
carries no auth, so the connection is refused as unauthenticated.
"""

from __future__ import annotations

import contextlib
from typing import Any

from socketio import packet as sio_packet  # type: ignore[import-untyped]

from .validation import MAX_JSON_DEPTH, json_too_deep

__all__ = ["MALFORMED_EVENT", "SafePacket", "harden"]

#: the event a malformed event packet is delivered as
MALFORMED_EVENT = "malformed_packet"

_REFUSAL = {
    "error": {
        "code": "malformed_json",
        "message": "the packet is not valid JSON, nests deeper than "
        f'{MAX_JSON_DEPTH} levels or is not ["event", ...]',
    }
}


class SafePacket(sio_packet.Packet):  # type: ignore[misc]
    """A ``Packet`` whose decoding never raises for a bad payload (see the module)."""

    def decode(self, encoded_packet: Any) -> int:
        malformed = False
        count = 0
        if isinstance(encoded_packet, str) and json_too_deep(encoded_packet.encode()):
            malformed = True
            self.data = None
            # the type, namespace and ack id before the payload still count: the refusal
            # answers the caller
            starts = [i for i in (encoded_packet.find("["), encoded_packet.find("{")) if i >= 0]
            with contextlib.suppress(ValueError, RecursionError):
                super().decode(encoded_packet[: min(starts)])
        else:
            try:
                count = int(super().decode(encoded_packet) or 0)
            except (ValueError, RecursionError):
                malformed = True
                self.data = None
        ptype: Any = getattr(self, "packet_type", None)
        if ptype in (sio_packet.EVENT, sio_packet.BINARY_EVENT):
            data = self.data
            if malformed or not (isinstance(data, list) and data and isinstance(data[0], str)):
                self.packet_type = sio_packet.EVENT
                self.data = [MALFORMED_EVENT]
                return 0
        elif malformed:
            self.data = [] if ptype in (sio_packet.ACK, sio_packet.BINARY_ACK) else None
            return 0
        return count


async def _refuse(sid: str, *args: Any) -> dict[str, Any]:
    return _REFUSAL


def harden(sio: Any, namespace: str = "/") -> None:
    """Decode ``sio``'s packets with ``SafePacket`` and answer malformed ones with a refusal."""
    sio.packet_class = SafePacket
    sio.on(MALFORMED_EVENT, _refuse, namespace=namespace)
