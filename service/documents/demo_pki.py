"""Demo signature and seal images, so that `nomflow demo` shows the whole signing path on a fresh
machine. Never used for a real decision: production images come from the province's own files."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"


def seal_png(text: str = "ỦY BAN NHÂN DÂN TỈNH HƯNG YÊN", size: int = 300) -> bytes:
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 20, 220)
    draw.ellipse((6, 6, size - 6, size - 6), outline=red, width=8)
    draw.ellipse((40, 40, size - 40, size - 40), outline=red, width=3)
    font = ImageFont.truetype(FONT, size // 14)
    for i, letter in enumerate(text):  # the authority's name around the ring
        angle = math.pi * (1.1 + 1.8 * i / max(1, len(text) - 1))
        x = size / 2 + (size / 2 - 24) * math.cos(angle)
        y = size / 2 + (size / 2 - 24) * math.sin(angle)
        draw.text((x, y), letter, fill=red, font=font, anchor="mm")
    draw.regular_polygon((size / 2, size / 2, size / 8), 5, fill=red)
    return _png(image)


def signature_png(width: int = 360, height: int = 180) -> bytes:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    blue = (20, 40, 160, 255)
    points = [(20 + i * 8, height / 2 + 40 * math.sin(i / 2.2) * math.cos(i / 7)) for i in range(40)]
    draw.line(points, fill=blue, width=5, joint="curve")
    draw.line([(40, height * 0.75), (width - 30, height * 0.6)], fill=blue, width=4)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
