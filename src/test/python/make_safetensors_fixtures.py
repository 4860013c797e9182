"""Write a safetensors file by hand, the way PyTorch's safetensors package lays it out, and its expected values.

fixtures/safetensors_handwritten.safetensors is built byte by byte here, not by a library, so the
Java reader is checked against the format itself. It contains:
  a_f16    F16  [3]      six bytes, so every later tensor starts at an offset that is not a
                          multiple of its element size
  b_f32    F32  [2, 3]   includes -0.0 and infinity
  c_bf16   BF16 [4, 5]
  d_i64    I64  [5]      includes values beyond the int range
  e_empty  F32  [0, 4]   zero elements, data_offsets [n, n]
  f_f64    F64  [2]
a __metadata__ object, and a header padded with trailing spaces to a length that is not a multiple
of 8, which readers must accept.

fixtures/safetensors_expected.safetensors (written through fixture_io) contains the values torch gives for each
tensor after widening to float64 (f16, bf16) or as stored (I64).
"""

import json
import os
import struct

import numpy as np
import torch

from fixture_io import FIXTURE_DIR, write_fixture


def main():
    generator = torch.Generator().manual_seed(20261204)
    a = (torch.randn(3, generator=generator) * 1000).half()
    b = torch.randn(2, 3, generator=generator)
    b[0, 1] = -0.0
    b[1, 2] = float("inf")
    c = torch.randn(4, 5, generator=generator).to(torch.bfloat16)
    d = torch.tensor([0, -1, 2 ** 40, -(2 ** 40) - 7, 123456789], dtype=torch.int64)
    e = torch.zeros(0, 4)
    f = torch.tensor([np.pi, -1e300], dtype=torch.float64)

    # (name, dtype, shape, little-endian bytes), in the order the data section stores them.
    entries = [
        ("a_f16", "F16", [3], a.view(torch.int16).numpy().astype("<i2").tobytes()),
        ("b_f32", "F32", [2, 3], b.numpy().astype("<f4").tobytes()),
        ("c_bf16", "BF16", [4, 5], c.view(torch.int16).numpy().astype("<i2").tobytes()),
        ("d_i64", "I64", [5], d.numpy().astype("<i8").tobytes()),
        ("e_empty", "F32", [0, 4], b""),
        ("f_f64", "F64", [2], f.numpy().astype("<f8").tobytes()),
    ]
    header = {"__metadata__": {"format": "pt", "source": "make_safetensors_fixtures.py"}}
    offset = 0
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8 + 8 + 5)

    os.makedirs(FIXTURE_DIR, exist_ok=True)
    path = os.path.join(FIXTURE_DIR, "safetensors_handwritten.safetensors")
    with open(path + ".tmp", "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for _, _, _, data in entries:
            out.write(data)
    os.replace(path + ".tmp", path)

    write_fixture("safetensors_expected", {
        "a_f16": a.double(),
        "b_f32": b.double(),
        "c_bf16": c.double(),
        "d_i64": d,
        "f_f64": f,
    })


if __name__ == "__main__":
    main()
