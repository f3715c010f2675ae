"""The grader's wire format between the trusted parent and the untrusted child: JSON plus .npy arrays, no pickle.

One message = an 8-byte length and a JSON header, then for each array in it an 8-byte length and
the array in NumPy's .npy format (``allow_pickle=False``). In the header an array stands as
``{"$array": i}``. Only bool, integer and float arrays travel; the reader refuses anything else and
any message over ``MAX_BYTES``. Standard library and NumPy only: the child loads this file too.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

MAX_BYTES = 256 * 2**20  # one message, header and arrays together
MAX_HEADER_BYTES = 2**20  # its JSON header: names and numbers only (arrays travel beside it); parsing JSON takes
# far more memory than its bytes, so this bound keeps a forged header from swamping the reader
ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats


class WireError(ValueError):
    """A message that is not in this format, too large, or carries a refused type."""


def _encode(value, arrays: list[bytes]):
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS:
            raise WireError(f"an array of dtype {value.dtype} cannot travel; expected bool, integer or float")
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, value, allow_pickle=False)
        arrays.append(buffer.getvalue())
        return {"$array": len(arrays) - 1}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays)
    if isinstance(value, dict):
        return {str(k): _encode(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise WireError(f"a {type(value).__name__} cannot travel; expected arrays, numbers, strings, lists and dicts")


def encode(message: dict) -> bytes:
    """message (dicts, lists, str, numbers, None, ndarrays) -> bytes to write."""
    arrays: list[bytes] = []
    header = json.dumps(_encode(message, arrays)).encode("utf-8")
    parts = [struct.pack(">Q", len(header)), header]
    for blob in arrays:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def _decode(value, arrays: list[np.ndarray]):
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            index = value["$array"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise WireError("an array reference points at no array")
            return arrays[index]
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def _read_exact(read, size: int, budget: list[int]) -> bytes:
    if size > budget[0]:
        raise WireError(f"message larger than {MAX_BYTES} bytes")
    budget[0] -= size
    data = bytearray()
    while len(data) < size:
        chunk = read(size - len(data))
        if not chunk:
            raise EOFError("the other side closed the pipe mid-message")
        data += chunk
    return bytes(data)


def read_message(read) -> dict:
    """One message from read (a function: n -> up to n bytes, b'' at the end) -> the decoded dict.

    EOFError when the stream ends before a message starts or inside one; WireError for anything malformed.
    """
    budget = [MAX_BYTES]
    (size,) = struct.unpack(">Q", _read_exact(read, 8, budget))
    if size > MAX_HEADER_BYTES:
        raise WireError(f"a message header of {size} bytes; at most {MAX_HEADER_BYTES}")
    try:
        header = json.loads(_read_exact(read, size, budget).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WireError(f"the header is not JSON: {err}") from None
    count = _count_arrays(header)
    arrays = []
    for _ in range(count):
        (size,) = struct.unpack(">Q", _read_exact(read, 8, budget))
        arrays.append(_array(_read_exact(read, size, budget)))
    if not isinstance(header, dict):
        raise WireError("the header is not a JSON object")
    return _decode(header, arrays)


def _array(blob: bytes) -> np.ndarray:
    """One .npy blob -> its array; its header is checked against the blob's size before anything is allocated."""
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = header(stream)
    except (ValueError, OSError, SyntaxError, TypeError) as err:
        raise WireError(f"an array is not in .npy format: {err}") from None
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject or dtype.fields is not None:
        raise WireError(f"an array of dtype {dtype} was refused; expected bool, integer or float")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(blob) - stream.tell():
        raise WireError(f"an array's header says shape {shape} of {dtype}, but {len(blob) - stream.tell()} bytes came")
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=stream.tell()).copy()
    return flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)


def _count_arrays(value) -> int:
    if isinstance(value, dict):
        return 1 if set(value) == {"$array"} else sum(_count_arrays(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_arrays(v) for v in value)
    return 0
