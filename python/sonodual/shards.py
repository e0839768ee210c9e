"""numpy reader of SonoDual shard files (format version 1, schemas/shard-format.md)."""
import numpy as np

MAGIC = b"SONOSHRD"
VERSION = 1
HEADER_SIZE = 4096
DTYPES = {0: np.dtype("u1"), 1: np.dtype("<f2"), 2: np.dtype("<f4"), 3: np.dtype("<i8"), 4: np.dtype("<u4")}

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c_reference(data) -> int:
    """CRC-32C (Castagnoli), pure Python: about 10 MB/s, the definition the fast path is tested against."""
    c = 0xFFFFFFFF
    for b in bytes(data):
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


try:  # The `crc32c` package (PyPI; `pip install ./python[fast]`): SSE4.2 / ARMv8 CRC instructions, GB/s.
    from crc32c import crc32c as _accelerated
except ImportError:  # numpy stays the only hard dependency; every record is still checked, slowly.
    _accelerated = None

#: Whether record checksums use the C implementation (a reader of 2 s clips then keeps up with GPUs).
CRC_ACCELERATED = _accelerated is not None


def crc32c(data) -> int:
    """CRC-32C (Castagnoli) of a bytes-like object or contiguous numpy array."""
    if _accelerated is not None:
        return _accelerated(data if isinstance(data, (bytes, bytearray, memoryview)) else memoryview(np.ascontiguousarray(data)).cast("B"))
    return crc32c_reference(data)


class ShardError(ValueError):
    """A shard that cannot be used; the message starts with its path."""


class Shard:
    """One shard file: a validated header and a read-only memmap of its records."""

    def __init__(self, path, expect_records=None, expect_size=None):
        self.path = str(path)
        raw = np.fromfile(self.path, dtype=np.uint8)
        size = raw.size
        if size < HEADER_SIZE:
            raise ShardError(f"{self.path}: file is {size} bytes, shorter than the header")
        h = raw[:HEADER_SIZE].tobytes()
        if h[:8] != MAGIC:
            raise ShardError(f"{self.path}: not a SonoDual shard (bad magic)")
        version, header_size = np.frombuffer(h, "<u4", 2, 8)
        if version != VERSION or header_size != HEADER_SIZE:
            raise ShardError(f"{self.path}: unsupported format version {version}")
        if crc32c(h[:4092]) != int(np.frombuffer(h, "<u4", 1, 4092)[0]):
            raise ShardError(f"{self.path}: header checksum mismatch")
        self.dataset_id = int(np.frombuffer(h, "<i8", 1, 16)[0])
        self.dataset_name = h[24:88].split(b"\0", 1)[0].decode()
        count, record_size, stride = (int(x) for x in np.frombuffer(h, "<u8", 3, 88))
        field_count = int(np.frombuffer(h, "<u4", 1, 116)[0])
        self.records_crc = int(np.frombuffer(h, "<u4", 1, 120)[0])
        if HEADER_SIZE + count * stride != size:
            raise ShardError(f"{self.path}: file is {size} bytes but the header describes {HEADER_SIZE + count * stride}")
        if expect_records is not None and expect_records != count or expect_size is not None and expect_size != size:
            raise ShardError(f"{self.path}: does not match the catalog")
        self.count, self.record_size, self.stride = count, record_size, stride
        self.fields = {}
        for k in range(field_count):
            e = h[128 + 64 * k: 192 + 64 * k]
            name = e[:32].split(b"\0", 1)[0].decode()
            dtype, ndim = DTYPES[e[32]], e[33]
            shape = tuple(int(x) for x in np.frombuffer(e, "<u4", ndim, 36))
            offset = int(np.frombuffer(e, "<u8", 1, 56)[0])
            self.fields[name] = (dtype, shape, offset)
        self._records = np.memmap(self.path, dtype=np.uint8, mode="r", offset=HEADER_SIZE, shape=(count, stride)) \
            if count else np.zeros((0, stride), np.uint8)

    def __len__(self):
        return self.count

    def field(self, name):
        """All records' `name` as an array [count, *shape] (a view where the dtype allows)."""
        dtype, shape, offset = self.fields[name]
        nbytes = int(np.prod(shape)) * dtype.itemsize
        block = self._records[:, offset:offset + nbytes]
        if dtype.itemsize == 1:
            return block.view(dtype).reshape((self.count,) + shape)
        return np.ascontiguousarray(block).view(dtype).reshape((self.count,) + shape)

    def record(self, slot):
        """One record as a dict of arrays (copies), checking its CRC-32C."""
        row = self._records[slot]
        dtype, _, crc_offset = self.fields["crc32c"]
        if crc32c(row[:crc_offset]) != int(row[crc_offset:crc_offset + 4].view("<u4")[0]):
            raise ShardError(f"{self.path}: record {slot} fails its CRC-32C")
        out = {}
        for name, (dtype, shape, offset) in self.fields.items():
            if name == "crc32c":
                continue
            nbytes = int(np.prod(shape)) * dtype.itemsize
            out[name] = row[offset:offset + nbytes].copy().view(dtype).reshape(shape)
        out["clip_id"] = int(out["clip_id"][0])
        return out
