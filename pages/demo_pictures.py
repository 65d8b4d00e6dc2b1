"""Pictures for the demo content, drawn with Pillow: soft abstract shapes, and for some a
simple illustration (a spine, an arm, a back, a dumbbell, map pins...). No text, no faces.

Each illustration draws on a 100 x 100 grid; a ``Sketch`` scales it up, keeps one mask per
tone and draws at twice the size, so the shapes come out smooth after one reduction.
"""

import functools
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFilter

SUPERSAMPLE = 2
GRAIN_TILE = 256
# Tones in the order they are laid down: a light fill under the drawing, the drawing, details.
TONES = ("soft", "main", "accent")


@dataclass(frozen=True)
class Palette:
    """Colours for one picture: a gradient, the soft circles on it and the drawing's tones."""

    top: str
    bottom: str
    circles: tuple[str, ...]
    halo: str
    main: str
    accent: str
    soft: str


# The brand's blues (#0b5394) with a warm accent: dark, light and in between.
DEEP_BLUE = Palette(
    top="#073763",
    bottom="#0b5394",
    circles=("#3d85c6", "#6fa8dc", "#1c4f86", "#6fa8dc"),
    halo="#9fc5e8",
    main="#f5f9fd",
    accent="#f6b26b",
    soft="#cfe2f3",
)
LIGHT_BLUE = Palette(
    top="#eaf2fb",
    bottom="#bcd6ee",
    circles=("#9fc5e8", "#6fa8dc", "#ffe3c2", "#cfe2f3"),
    halo="#ffffff",
    main="#0b5394",
    accent="#e69138",
    soft="#6fa8dc",
)
MID_BLUE = Palette(
    top="#3d85c6",
    bottom="#0b5394",
    circles=("#6fa8dc", "#9fc5e8", "#073763", "#cfe2f3"),
    halo="#cfe2f3",
    main="#ffffff",
    accent="#f6b26b",
    soft="#9fc5e8",
)

# How opaque each tone is: the soft fill lets the background show through.
TONE_ALPHA = {"soft": 110, "main": 240, "accent": 255}


class Sketch:
    """Shapes on a 100 x 100 grid placed in a square of ``side`` pixels, one mask per tone."""

    def __init__(self, side: int, masks=None, origin=(0.0, 0.0), scale=None):
        self.side = side
        self.masks = masks if masks is not None else {}
        self.origin = origin
        self.scale = scale if scale is not None else side * SUPERSAMPLE / 100

    def within(self, x: float, y: float, size: float) -> "Sketch":
        """The same canvas, with a 100 x 100 grid fitted into the square (x, y, size)."""
        ox, oy = self.origin
        return Sketch(
            self.side,
            self.masks,
            (ox + x * self.scale, oy + y * self.scale),
            self.scale * size / 100,
        )

    def _draw(self, tone: str) -> ImageDraw.ImageDraw:
        if tone not in self.masks:
            size = self.side * SUPERSAMPLE
            self.masks[tone] = Image.new("L", (size, size), 0)
        return ImageDraw.Draw(self.masks[tone])

    def _p(self, x: float, y: float) -> tuple[float, float]:
        return (self.origin[0] + x * self.scale, self.origin[1] + y * self.scale)

    def _box(self, x0, y0, x1, y1):
        return (*self._p(x0, y0), *self._p(x1, y1))

    def ellipse(self, tone, x0, y0, x1, y1, fill=255):
        self._draw(tone).ellipse(self._box(x0, y0, x1, y1), fill=fill)

    def circle(self, tone, x, y, r, fill=255):
        self.ellipse(tone, x - r, y - r, x + r, y + r, fill)

    def ring(self, tone, x, y, r, width):
        self._draw(tone).ellipse(
            self._box(x - r, y - r, x + r, y + r), outline=255, width=round(width * self.scale)
        )

    def rounded(self, tone, x0, y0, x1, y1, radius, fill=255):
        self._draw(tone).rounded_rectangle(
            self._box(x0, y0, x1, y1), radius=radius * self.scale, fill=fill
        )

    def polygon(self, tone, points, fill=255):
        self._draw(tone).polygon([self._p(x, y) for x, y in points], fill=fill)

    def line(self, tone, points, width, fill=255):
        """A thick line with round joints and ends."""
        pixels = [self._p(x, y) for x, y in points]
        self._draw(tone).line(pixels, fill=fill, width=round(width * self.scale), joint="curve")
        for x, y in (points[0], points[-1]):
            self.circle(tone, x, y, width / 2, fill)

    def dots(self, tone, points, r):
        for x, y in points:
            self.circle(tone, x, y, r)

    def dashed_arc(self, tone, x, y, r, start, end, width, dash=9, gap=7):
        """An arc of short dashes; angles in degrees, clockwise from 3 o'clock."""
        box = self._box(x - r, y - r, x + r, y + r)
        draw = self._draw(tone)
        angle = start
        while angle < end:
            draw.arc(box, angle, min(angle + dash, end), fill=255, width=round(width * self.scale))
            angle += dash + gap


def smooth(points, samples=12, closed=True):
    """A Catmull-Rom curve through ``points``: an outline or a path without corners."""
    if not closed:
        points = [points[0], *points, points[-1]]
    curve = []
    count = len(points)
    for i in range(count) if closed else range(1, count - 2):
        p0, p1, p2, p3 = (points[(i + k) % count] for k in (-1, 0, 1, 2))
        for step in range(samples):
            t = step / samples
            t2, t3 = t * t, t * t * t
            curve.append(
                tuple(
                    0.5
                    * (
                        2 * p1[d]
                        + (-p0[d] + p2[d]) * t
                        + (2 * p0[d] - 5 * p1[d] + 4 * p2[d] - p3[d]) * t2
                        + (-p0[d] + 3 * p1[d] - 3 * p2[d] + p3[d]) * t3
                    )
                    for d in (0, 1)
                )
            )
    return curve


# --- Illustrations ------------------------------------------------------------------------


def spine(sk: Sketch) -> None:
    """Stacked rounded vertebrae on a gentle S-curve, with discs between them."""
    count = 9
    for i in range(count):
        t = i / (count - 1)
        y = 8 + t * 72
        x = 50 + 6 * math.sin(math.pi * (1.4 * t - 0.2))
        half_w, half_h = 7 + 6 * t, 3.0 + 0.9 * t
        sk.rounded("main", x - half_w, y - half_h, x + half_w, y + half_h, half_h * 0.9)
        # Transverse processes: a small wing on each side.
        sk.rounded("main", x - half_w - 4, y - 1.3, x - half_w + 2, y + 1.3, 1.3)
        sk.rounded("main", x + half_w - 2, y - 1.3, x + half_w + 4, y + 1.3, 1.3)
        if i < count - 1:
            disc_y = y + 4.5
            sk.ellipse("accent", x - half_w * 0.75, disc_y - 0.9, x + half_w * 0.75, disc_y + 0.9)
    # The sacrum: a rounded wedge under the last vertebra.
    x = 50 + 6 * math.sin(math.pi * 1.2)
    sk.polygon("main", [(x - 12, 85), (x + 12, 85), (x + 5, 97), (x - 5, 97)])


def raised_arm(sk: Sketch) -> None:
    """Shoulders and arms in one outline, the right arm lifted; a dotted arc for the movement."""
    outline = [
        (45, 12), (46, 20), (55, 26), (63, 29),  # neck, then the top of the right shoulder
        (74, 15), (80, 5), (86, 3), (90, 8), (87, 17),  # the lifted arm and hand
        (75, 35), (64, 48),  # under the arm to the armpit
        (59, 64), (58, 80), (60, 97), (20, 97), (22, 80), (22, 64),  # the body
        (19, 50), (17, 64), (15, 77), (9, 77), (8, 60), (12, 38), (24, 27), (34, 20), (35, 12),
    ]  # fmt: skip
    body = smooth(outline, samples=8)
    sk.polygon("soft", body)
    sk.line("main", [*body, body[0]], 2.6)
    sk.dashed_arc("accent", 63, 36, 40, -30, 75, 1.6)
    sk.circle("accent", 63, 36, 3.2)


def back_with_tight_spots(sk: Sketch) -> None:
    """The outline of a back seen from behind, with warm dots where muscles are tight."""
    right = [
        (57, 3), (58, 15), (70, 21), (84, 27), (88, 38), (82, 52), (77, 68), (80, 84), (84, 98)
    ]  # fmt: skip
    outline = right + [(100 - x, y) for x, y in reversed(right)]
    curve = smooth(outline)
    sk.polygon("soft", curve)
    sk.line("main", [*curve, curve[0]], 2.6)
    sk.dots("main", [(50, 20 + 5 * i) for i in range(15)], 0.9)  # the spine, as a dotted line
    for x, y in ((67, 25), (33, 25), (62, 42), (39, 70)):
        sk.circle("accent", x, y, 2.6)
        sk.ring("accent", x, y, 6, 0.9)


def dumbbell(sk: Sketch) -> None:
    sk.rounded("main", 10, 47, 90, 53, 3)
    for x0, x1, y0, y1 in ((19, 28, 28, 72), (29, 35, 35, 65)):
        sk.rounded("main", x0, y0, x1, y1, 3)
        sk.rounded("main", 100 - x1, y0, 100 - x0, y1, 3)
    sk.rounded("accent", 36, 43, 39, 57, 1)
    sk.rounded("accent", 61, 43, 64, 57, 1)


def map_pin(sk: Sketch, x: float, y: float, r: float) -> None:
    """A pin whose head is a circle at (x, y) and whose point is below it, with a shadow."""
    tip = 2.3 * r
    sk.ellipse("soft", x - 0.8 * r, y + tip - 0.2 * r, x + 0.8 * r, y + tip + 0.2 * r)
    spread = math.degrees(math.acos(r / tip))
    arc = [
        (x + r * math.cos(math.radians(a)), y + r * math.sin(math.radians(a)))
        for a in range(round(90 + spread), round(450 - spread), 6)
    ]
    sk.polygon("main", [*arc, (x, y + tip)])
    sk.circle("main", x, y, r)
    sk.circle("main", x, y, 0.42 * r, fill=0)  # the hole shows the background
    sk.circle("accent", x, y, 0.22 * r)


def three_pins(sk: Sketch) -> None:
    """Three offices: pins joined by a dotted path."""
    pins = ((24, 46, 11), (52, 26, 14), (78, 50, 10))
    path = smooth([(24, 71), (38, 78), (52, 60), (66, 80), (78, 73)], samples=8, closed=False)
    sk.dots("accent", path[::3], 1.0)
    for pin in pins:
        map_pin(sk, *pin)


def payment_cards(sk: Sketch) -> None:
    """Two plain cards, one behind the other: no numbers, no logos."""
    sk.rounded("soft", 12, 20, 72, 58, 5)
    sk.rounded("main", 28, 38, 88, 76, 5)
    sk.rounded("main", 28, 46, 88, 53, 0, fill=0)  # the stripe shows the background
    sk.rounded("accent", 35, 60, 46, 68, 2)


def rising_steps(sk: Sketch) -> None:
    """Three steps up, and a dotted path to a warm circle at the top."""
    sk.polygon(
        "main", [(12, 90), (12, 70), (37, 70), (37, 52), (62, 52), (62, 34), (88, 34), (88, 90)]
    )
    sk.dots("accent", [(20 + 10 * i, 60 - 9 * i) for i in range(6)], 1.3)
    sk.circle("accent", 78, 16, 7)


def three_things(sk: Sketch) -> None:
    """A spine, a dumbbell and a map pin, each in a soft circle: care, fitness, near you."""
    for x, y, size, draw in (
        (5, 36, 36, spine),
        (38, 6, 32, dumbbell),
        (62, 44, 32, lambda s: map_pin(s, 50, 36, 20)),
    ):
        sk.circle("soft", x + size / 2, y + size / 2, size / 2 + 3)
        draw(sk.within(x, y, size))


def soft_rings(sk: Sketch) -> None:
    """A placeholder for a portrait: concentric soft circles, no face and no figure."""
    sk.circle("soft", 44, 42, 30)
    sk.ring("main", 56, 56, 26, 0.8)
    sk.circle("accent", 73, 72, 6)


# --- The picture --------------------------------------------------------------------------


@functools.cache
def _grain(size: tuple[int, int]) -> Image.Image:
    """Faint noise that hides the steps an 8-bit gradient would show: one small tile
    repeated (noise for the whole picture takes ten times longer, and looks the same)."""
    tile = Image.effect_noise((GRAIN_TILE, GRAIN_TILE), 2).convert("RGB")
    grain = Image.new("RGB", size)
    for x in range(0, size[0], GRAIN_TILE):
        for y in range(0, size[1], GRAIN_TILE):
            grain.paste(tile, (x, y))
    return grain


def _background(size, palette: Palette, rng: random.Random, halo_at) -> Image.Image:
    """A gradient with soft, blurred circles, drawn at a quarter of the size and scaled up."""
    width, height = size
    small = (max(1, width // 4), max(1, height // 4))
    mask = Image.linear_gradient("L").resize(small)
    canvas = Image.composite(
        Image.new("RGB", small, palette.bottom), Image.new("RGB", small, palette.top), mask
    ).convert("RGBA")
    low, high = small[1] // 6, small[1] // 2
    shapes = [
        (rng.randint(0, small[0]), rng.randint(0, small[1]), rng.randint(low, high))
        for _ in range(7)
    ]
    if halo_at is not None:
        shapes.append((halo_at[0] // 4, halo_at[1] // 4, int(small[1] * 0.46)))
    for index, (cx, cy, radius) in enumerate(shapes):
        layer = Image.new("RGBA", small, (0, 0, 0, 0))
        is_halo = halo_at is not None and index == len(shapes) - 1
        colour = palette.halo if is_halo else palette.circles[index % len(palette.circles)]
        alpha = 90 if is_halo else rng.randint(60, 130)
        fill = ImageColor.getrgb(colour)[:3] + (alpha,)
        ImageDraw.Draw(layer).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill)
        canvas = Image.alpha_composite(canvas, layer)
    canvas = canvas.filter(ImageFilter.GaussianBlur(radius=max(1, small[1] // 40)))
    return canvas.convert("RGB").resize(size, Image.Resampling.BILINEAR)


@functools.lru_cache(maxsize=32)  # the tests load the demo many times in one process
def demo_picture(
    size: tuple[int, int],
    palette: Palette,
    seed: str,
    drawing: Callable[[Sketch], None] | None = None,
) -> bytes:
    """A JPEG: the soft background and, if given, a drawing a little right of the middle
    (in the middle of a square). ``seed`` fixes the layout of the circles."""
    width, height = size
    rng = random.Random(seed)
    side = int(min(height * 0.8, width * 0.8))
    # At 0.6 of a 16:9 width the drawing stays whole when a card crops the picture to 4:3.
    centre = (int(width * 0.6), height // 2) if width > height * 1.2 else (width // 2, height // 2)
    picture = _background(size, palette, rng, centre if drawing else None)
    if drawing is not None:
        sketch = Sketch(side)
        drawing(sketch)
        origin = (centre[0] - side // 2, centre[1] - side // 2)
        for tone in TONES:
            if tone in sketch.masks:
                mask = sketch.masks[tone].reduce(SUPERSAMPLE)
                alpha = TONE_ALPHA[tone]
                mask = mask.point(lambda value, a=alpha: value * a // 255)
                picture.paste(ImageColor.getrgb(getattr(palette, tone)), origin, mask)
    picture = ImageChops.add(picture, _grain(size), scale=1.0, offset=-128)
    buffer = io.BytesIO()
    # No optimize=True: 4x slower for 15% less; pages link the resized copies, not this.
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def abstract_picture(size: tuple[int, int], colors: tuple[str, ...], seed: str) -> bytes:
    """The older pictures' look (articles, offices): ``colors`` is (top, bottom, *circles)."""
    top, bottom, *circles = colors
    palette = Palette(top, bottom, tuple(circles), circles[0], "#ffffff", "#ffffff", "#ffffff")
    return demo_picture(size, palette, seed)
