"""Figures kept in a trace store as one blob: a JSON header and raw little-endian arrays.

The figures a look hands to the next one (:mod:`canarykit.traces.partial_summaries`,
:mod:`canarykit.traces.segment_figures`) are counts and a few floats. :func:`pack` writes the
header (scalars, with the format name and, per array, its group, name, dtype and length) and the
arrays' bytes, compressed; non-negative integer counts are stored in the narrowest unsigned type
that holds them. :func:`unpack` returns ``None`` for anything that is not exactly such a blob of
the expected format — a damaged or foreign record is never half-read.

Examples
--------
>>> blob = pack("demo/1", {"n": 3}, {"arm": {"counts": np.array([1, 2, 300])}})
>>> header, arrays = unpack(blob, "demo/1")
>>> header["n"], arrays["arm"]["counts"].dtype, arrays["arm"]["counts"].tolist()
(3, dtype('uint16'), [1, 2, 300])
>>> unpack(blob, "demo/2") is None
True
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["narrow", "pack", "unpack"]

Arrays = Mapping[str, Mapping[str, npt.NDArray[Any]]]


def narrow(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Non-negative integer counts in the narrowest of uint8/16/32 that holds them (else as is).

    Examples
    --------
    >>> narrow(np.array([0, 70_000])).dtype, narrow(np.array([-1, 2])).dtype
    (dtype('uint32'), dtype('int64'))
    """
    if a.dtype.kind != "i" or a.size == 0 or int(a.min()) < 0:
        return a
    top = int(a.max())
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return a.astype(dtype)
    return a


def pack(form: str, header: Mapping[str, Any], arrays: Arrays) -> bytes:
    """``header`` (JSON-ready) and ``arrays[group][name]`` as one compressed blob of ``form``."""
    head: dict[str, Any] = {**header, "format": form, "arrays": []}
    chunks: list[bytes] = []
    for group, named in arrays.items():
        for name, array in named.items():
            small = narrow(np.asarray(array))
            stored = np.ascontiguousarray(small, dtype=small.dtype.newbyteorder("<"))
            head["arrays"].append([group, name, stored.dtype.str, int(stored.size)])
            chunks.append(stored.tobytes())
    text = json.dumps(head, separators=(",", ":")).encode()
    return zlib.compress(len(text).to_bytes(4, "little") + text + b"".join(chunks), 1)


def unpack(
    blob: bytes, form: str
) -> tuple[dict[str, Any], dict[str, dict[str, npt.NDArray[Any]]]] | None:
    """Inverse of :func:`pack`: ``(header, arrays[group][name])``, or ``None``."""
    try:
        raw = zlib.decompress(blob)
        size = int.from_bytes(raw[:4], "little")
        header = json.loads(raw[4 : 4 + size])
        if not isinstance(header, dict) or header.get("format") != form:
            return None
        arrays: dict[str, dict[str, npt.NDArray[Any]]] = {}
        offset = 4 + size
        for group, name, dtype, length in header["arrays"]:
            kind = np.dtype(dtype)
            end = offset + kind.itemsize * int(length)
            if end > len(raw):
                return None
            arrays.setdefault(str(group), {})[str(name)] = np.frombuffer(
                raw[offset:end], dtype=kind
            )
            offset = end
        if offset != len(raw):
            return None
        return header, arrays
    except (ValueError, KeyError, TypeError, zlib.error):
        return None
