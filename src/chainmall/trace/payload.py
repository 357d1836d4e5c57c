"""Compact binary payload a QR code carries, and its base45 text form.

Layout (version 1), all integers unsigned LEB128 varints::

    0x01 | tree size | Merkle root (32 bytes) | len(product_id) | product_id (UTF-8)
         | n entries | first index | index deltas ...

The root pins the ledger as it stood when the label was printed; indexes say
which leaves hold the product's steps. Base45 (RFC 9285) text fits a QR code's
alphanumeric mode, which stores 5.5 bits per character.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainmall.exceptions import DataValidationError

__all__ = ["ProvenancePayload", "base45_decode", "base45_encode"]

VERSION = 1
_ROOT_BYTES = 32
_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUE = {c: i for i, c in enumerate(_B45)}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DataValidationError(
                f"provenance payload is truncated: needs {self.pos + n} bytes, has {len(self.data)}"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def varint(self) -> int:
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise DataValidationError("provenance payload has an over-long integer")


@dataclass(frozen=True)
class ProvenancePayload:
    """What the QR code says: tree size and root, product id, the product's leaf indexes."""

    size: int
    root: str
    product_id: str
    indexes: tuple[int, ...]

    def to_bytes(self) -> bytes:
        """Binary form (see the module docstring)."""
        product = self.product_id.encode("utf-8")
        deltas = [
            self.indexes[0],
            *(b - a for a, b in zip(self.indexes, self.indexes[1:], strict=False)),
        ]
        parts = [bytes([VERSION]), _varint(self.size), bytes.fromhex(self.root)]
        parts += [_varint(len(product)), product, _varint(len(self.indexes))]
        parts += [_varint(d) for d in deltas]
        return b"".join(parts)

    def to_text(self) -> str:
        """Base45 text for a QR code's alphanumeric mode."""
        return base45_encode(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> ProvenancePayload:
        """Parse a payload; raise :class:`DataValidationError` if it is malformed."""
        if not isinstance(data, bytes | bytearray):
            raise DataValidationError(f"data must be bytes, got {type(data).__name__}")
        reader = _Reader(bytes(data))
        version = reader.take(1)[0]
        if version != VERSION:
            raise DataValidationError(
                f"provenance payload version {version} is not supported (expected {VERSION})"
            )
        size = reader.varint()
        root = reader.take(_ROOT_BYTES).hex()
        try:
            product_id = reader.take(reader.varint()).decode("utf-8")
        except UnicodeDecodeError:
            raise DataValidationError("provenance payload product id is not UTF-8") from None
        count = reader.varint()
        if count == 0 or count > size:
            raise DataValidationError(
                f"provenance payload lists {count} entries of a {size}-leaf tree"
            )
        indexes = [reader.varint()]
        for _ in range(count - 1):
            delta = reader.varint()
            if delta == 0:
                raise DataValidationError("provenance payload indexes must strictly increase")
            indexes.append(indexes[-1] + delta)
        if reader.pos != len(reader.data):
            raise DataValidationError(
                f"provenance payload has {len(reader.data) - reader.pos} trailing bytes"
            )
        if indexes[-1] >= size:
            raise DataValidationError(
                f"provenance payload index {indexes[-1]} is outside a tree of {size} leaves"
            )
        return cls(size=size, root=root, product_id=product_id, indexes=tuple(indexes))

    @classmethod
    def from_text(cls, text: str) -> ProvenancePayload:
        """Parse the base45 text form."""
        return cls.from_bytes(base45_decode(text))


def base45_encode(data: bytes) -> str:
    """RFC 9285 base45: two bytes to three characters, a last odd byte to two."""
    if not isinstance(data, bytes | bytearray):
        raise DataValidationError(f"data must be bytes, got {type(data).__name__}")
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [_B45[n % 45], _B45[n // 45 % 45], _B45[n // 2025]]
    if len(data) % 2:
        out += [_B45[data[-1] % 45], _B45[data[-1] // 45]]
    return "".join(out)


def base45_decode(text: str) -> bytes:
    """Inverse of :func:`base45_encode`; raise on characters or lengths base45 cannot hold."""
    if not isinstance(text, str):
        raise DataValidationError(f"text must be a str, got {type(text).__name__}")
    try:
        values = [_B45_VALUE[c] for c in text]
    except KeyError as exc:
        raise DataValidationError(f"not base45 text: character {exc.args[0]!r}") from None
    if len(values) % 3 == 1:
        raise DataValidationError(f"not base45 text: length {len(values)} leaves one character")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        width = 2 if len(chunk) == 3 else 1
        if n >= 256**width:
            raise DataValidationError("not base45 text: a group decodes beyond its byte width")
        out += n.to_bytes(width, "big")
    return bytes(out)
