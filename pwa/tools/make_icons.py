"""Draw the app icons (a beer mug on the brand green) into pwa/static/icons/ as PNG files.

Pure Python (zlib + struct), no imaging library needed: `python pwa/tools/make_icons.py`.
The PNGs are committed; run this again only when the design changes.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
SIZES = [48, 72, 96, 128, 144, 152, 192, 256, 384, 512]
GREEN = (15, 81, 50)
AMBER = (244, 180, 0)
WHITE = (255, 255, 255)
SAMPLES = 3  # supersampling per axis, for smooth edges


def _in_round_rect(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _mug(x: float, y: float) -> tuple[int, int, int] | None:
    """The mug in a unit square centred on (0.5, 0.5); None where it is background."""
    top, bottom = 0.34, 0.80
    if top <= y <= bottom:
        t = (y - top) / (bottom - top)
        half = 0.20 - 0.03 * t
        if abs(x - 0.46) <= half:
            if abs(x - 0.46) >= half - 0.035 or y >= bottom - 0.035:
                return WHITE  # the glass
            return AMBER
        # handle: a ring on the right side
        d = ((x - 0.68) ** 2 + ((y - 0.55) * 0.9) ** 2) ** 0.5
        if x > 0.62 and 0.09 <= d <= 0.14:
            return WHITE
    # foam: three bubbles over the rim
    for cx, cy, r in ((0.34, 0.32, 0.085), (0.47, 0.28, 0.10), (0.59, 0.32, 0.085)):
        if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
            return WHITE
    return None


def render(size: int, maskable: bool) -> bytes:
    rows = []
    scale = 0.78 if maskable else 1.0  # maskable icons keep the drawing in the safe zone
    for py in range(size):
        row = bytearray([0])  # filter type 0
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) / size
                    y = (py + (sy + 0.5) / SAMPLES) / size
                    if not maskable and not _in_round_rect(x, y, 0.22):
                        continue
                    colour = _mug(0.5 + (x - 0.5) / scale, 0.5 + (y - 0.5) / scale) or GREEN
                    acc[0] += colour[0]
                    acc[1] += colour[1]
                    acc[2] += colour[2]
                    acc[3] += 255
            n = SAMPLES * SAMPLES
            alpha = acc[3] // n
            if alpha:
                # average colour of the covered samples, coverage as alpha
                red, green, blue = (acc[i] * 255 // acc[3] for i in range(3))
                row += bytes([red, green, blue, alpha])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return _png(size, size, b"".join(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (OUT / f"icon-{size}.png").write_bytes(render(size, maskable=False))
    for size in (192, 512):
        (OUT / f"maskable-{size}.png").write_bytes(render(size, maskable=True))
    (OUT / "apple-touch-icon-180.png").write_bytes(render(180, maskable=True))
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
