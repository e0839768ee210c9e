"""safetensors files (the format Swift's checkpoints use) read and written with numpy only."""
from __future__ import annotations

import json
import struct
from typing import Dict, Tuple

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "F64": np.float64}


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """(tensors by name, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize,
                                      offset=base + start).reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return tensors, metadata


def write_safetensors(tensors: Dict[str, np.ndarray], path: str, metadata: Dict[str, str] | None = None) -> None:
    """As `safetensors.numpy.save_file` writes it (names sorted, header padded to 8 bytes)."""
    names = {np.dtype(v): k for k, v in _DTYPES.items()}
    header: dict = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        blob = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
