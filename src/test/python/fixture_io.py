"""Writes reference fixtures in the safetensors format, by hand.

The format: an 8-byte little-endian header length, a JSON header mapping each tensor name to its
dtype, shape and [begin, end) byte offsets in the data section, then the data section. Fixtures
use F64 for reference values (so tests can pick their own tolerance), F32 for float32 inputs and
outputs, and I64/I32 for indices. Only numpy is needed to write them.
"""

import json
import os
import struct

import numpy as np

_DTYPES = {
    np.dtype(np.float64): "F64",
    np.dtype(np.float32): "F32",
    np.dtype(np.int64): "I64",
    np.dtype(np.int32): "I32",
}

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "fixtures")


def write_fixture(name, tensors, metadata=None):
    """Write `tensors` (name -> numpy array or torch tensor) to fixtures/<name>.safetensors."""
    return write_safetensors(os.path.join(FIXTURE_DIR, name + ".safetensors"), tensors, metadata)


def write_safetensors(path, tensors, metadata=None):
    """Write `tensors` to the safetensors file `path`, storing torch bfloat16 tensors as BF16."""
    header = {}
    blobs = []

    offset = 0
    for key in sorted(tensors):
        array = tensors[key]
        dtype = None
        if hasattr(array, "detach"):
            array = array.detach().cpu().contiguous()
            if str(array.dtype) == "torch.bfloat16":
                # numpy has no bfloat16: store the raw 16-bit patterns.
                dtype = "BF16"
                array = array.view(_int16())
            array = array.numpy()
        array = np.ascontiguousarray(array)
        if dtype is None:
            if array.dtype not in _DTYPES:
                raise ValueError(f"{path}: tensor {key} has unsupported dtype {array.dtype}")
            dtype = _DTYPES[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[key] = {"dtype": dtype, "shape": list(array.shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)

    meta = {"generator": "src/test/python", "torch": _torch_version()}
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
    return path


def _int16():
    import torch
    return torch.int16


def _torch_version():
    try:
        import torch
        return torch.__version__
    except ImportError:
        return "none"
