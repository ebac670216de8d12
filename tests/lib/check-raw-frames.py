#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks raw packed frames (as a GStreamer filesink writes them) against the castrelay test
pattern (src/tools/pattern.h) after the crop + bilinear scale of src/core/reference.c.

Usage: check-raw-frames.py FILE WxH FORMAT SRC_WxH X,Y,W,H COUNT [TOLERANCE]

FORMAT is BGRx, RGBx, BGRA or RGBA (byte order in memory). Each frame's number is read from the
R channel of its centre pixel (R = frame & 0xff is constant over a frame), the expected frame
is computed like cr_reference_scale_pixel() (in double precision, hence the tolerance), and
the frame numbers must advance. Exit 0 when everything matches, 1 otherwise, 2 for bad usage.
"""
import math
import sys

OFFSETS = {"BGRx": (2, 1, 0), "BGRA": (2, 1, 0), "RGBx": (0, 1, 2), "RGBA": (0, 1, 2)}


def size(text):
    w, h = text.split("x")
    return int(w), int(h)


def sample_pos(d, origin, length, dst_len):
    s = origin + (d + 0.5) * length / dst_len - 0.5
    return min(max(s, origin), origin + length - 1)


def axis(dst_len, origin, length):
    """Per destination coordinate: (i0, i1, fraction)."""
    out = []
    for d in range(dst_len):
        s = sample_pos(d, origin, length, dst_len)
        i0 = math.floor(s)
        i1 = i0 + 1 if i0 + 1 < origin + length else i0
        out.append((i0, i1, s - i0))
    return out


def lerp(a, b, f):
    return a + (b - a) * f


def main(argv):
    if len(argv) not in (7, 8):
        print(__doc__, file=sys.stderr)
        return 2
    path, (w, h), fmt = argv[1], size(argv[2]), argv[3]
    (sw, sh), crop, count = size(argv[4]), [int(v) for v in argv[5].split(",")], int(argv[6])
    tolerance = int(argv[7]) if len(argv) == 8 else 2
    if fmt not in OFFSETS or len(crop) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    cx, cy, cw, ch = crop
    if cx + cw > sw or cy + ch > sh:
        print("crop outside the source", file=sys.stderr)
        return 2
    data = open(path, "rb").read()
    frame_bytes = w * h * 4
    if len(data) != count * frame_bytes:
        print(f"{path}: {len(data)} bytes, expected {count} frames of {frame_bytes}")
        return 1
    ro, go, bo = OFFSETS[fmt]
    xs, ys = axis(w, cx, cw), axis(h, cy, ch)
    failures, previous, max_error = 0, None, 0
    for n in range(count):
        frame = data[n * frame_bytes:(n + 1) * frame_bytes]
        centre = ((h // 2) * w + w // 2) * 4
        f = frame[centre + ro]
        if previous is not None and f == previous:
            print(f"frame {n}: frame number {f} did not advance")
            failures += 1
        previous = f
        bad = 0
        for y, (y0, y1, fy) in enumerate(ys):
            # G = y & 0xff: interpolate the pattern's row values like the kernel does.
            g = math.floor(lerp(y0 & 0xff, y1 & 0xff, fy) + 0.5)
            row = y * w * 4
            for x, (x0, x1, fx) in enumerate(xs):
                b = math.floor(lerp((x0 + 2 * f) & 0xff, (x1 + 2 * f) & 0xff, fx) + 0.5)
                px = row + x * 4
                err = max(abs(frame[px + ro] - f), abs(frame[px + go] - g),
                          abs(frame[px + bo] - b))
                max_error = max(max_error, err)
                if err > tolerance:
                    if bad < 3:
                        print(f"frame {n} ({f}) pixel ({x},{y}): got R,G,B "
                              f"{frame[px + ro]},{frame[px + go]},{frame[px + bo]}, "
                              f"want {f},{g},{b}")
                    bad += 1
        if bad:
            failures += 1
    print(f"checked={count} mismatched_or_stale={failures} max_error={max_error}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
