"""Write the reference for float32 -> bfloat16 and float32 -> float16 rounding.

Writes fixtures/halffloat.safetensors with float32 inputs and torch's results, all stored as I32
bit patterns so every value, including signed zeros and subnormals, survives exactly:
  input      float32 bits of each input value
  bf16       bits of input.to(torch.bfloat16), zero-extended to 32 bits
  f16        bits of input.half(), zero-extended to 32 bits
NaN inputs are left out because torch replaces every NaN with one canonical pattern.
"""

import numpy as np
import torch

from fixture_io import write_fixture


def edge_values():
    """Float32 values at the boundaries of the two 16-bit formats and their rounding ties."""
    f32 = np.float32
    values = [0.0, -0.0, np.inf, -np.inf, 1.0, -1.0, 65504.0, 65519.0, 65520.0, 65536.0,
              np.finfo(np.float32).max, np.finfo(np.float32).tiny, 2.0 ** -14, 2.0 ** -24, 2.0 ** -25,
              3 * 2.0 ** -26, 2.0 ** -149, 2.0 ** -126 - 2.0 ** -149, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,
              1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 2.0 ** -14 - 2.0 ** -25, 1023.5 * 2.0 ** -24]
    out = []
    with np.errstate(over="ignore"):
        for v in values:
            x = f32(v)
            out.extend([x, -x, np.nextafter(x, f32(np.inf)), np.nextafter(x, f32(-np.inf))])
    return np.array(out, dtype=np.float32)


def random_values(rng, count):
    """Random float32 values spread over magnitudes from float32 subnormals to overflow."""
    mantissas = rng.standard_normal(count)
    exponents = rng.integers(-150, 129, size=count)
    with np.errstate(over="ignore"):
        values = (mantissas * np.exp2(exponents.astype(np.float64))).astype(np.float32)
    # Dense coverage of binary16's subnormal, normal and overflow ranges.
    half_range = (rng.uniform(-1.0, 1.0, count) * np.exp2(rng.integers(-26, 17, size=count))).astype(np.float32)
    # Random bit patterns reach every float32 exponent and mantissa.
    bits = rng.integers(0, 2 ** 32, size=count, dtype=np.uint64).astype(np.uint32).view(np.float32)
    bits = bits[~np.isnan(bits)]
    return np.concatenate([values, half_range, bits])


def main():
    rng = np.random.default_rng(20261204)
    inputs = np.concatenate([edge_values(), random_values(rng, 1500)])
    inputs = inputs[~np.isnan(inputs)]
    x = torch.from_numpy(inputs)
    bf16 = x.to(torch.bfloat16).view(torch.int16).to(torch.int32) & 0xFFFF
    f16 = x.half().view(torch.int16).to(torch.int32) & 0xFFFF
    write_fixture("halffloat", {
        "input": torch.from_numpy(inputs.view(np.int32).copy()),
        "bf16": bf16,
        "f16": f16,
    })


if __name__ == "__main__":
    main()
