"""Small PNG line and bar charts drawn with Pillow (no plotting library needed for model cards)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#7f7f7f")
Series = tuple[str, Sequence[float], Sequence[float]]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _frame(title: str, xlabel: str, ylabel: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((WIDTH // 2, 8), title, fill="black", font=_font(16), anchor="ma")
    draw.text((WIDTH // 2, HEIGHT - 18), xlabel, fill="black", font=_font(13), anchor="ma")
    draw.text((6, TOP - 22), ylabel, fill="black", font=_font(13))
    draw.rectangle((LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM), outline="black")
    return image, draw


def line_chart(
    path: Path,
    series: Sequence[Series],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    marks: Sequence[tuple[float, str]] = (),
    points: bool = False,
) -> Path:
    """Draw named (x, y) series as lines (or points) with a legend, and write a PNG.

    Args:
        path: the PNG to write.
        series: (name, xs, ys) per line.
        title: the chart title.
        xlabel: the x axis label.
        ylabel: the y axis label.
        xlim: the x axis range; values outside are clipped.
        ylim: the y axis range; values outside are clipped.
        marks: vertical lines at (x, label).
        points: draw markers as well as lines.

    Returns:
        The path written.
    """
    image, draw = _frame(title, xlabel, ylabel)
    axes = _Axes(xlim, ylim)
    _grid(draw, axes)
    _marks(draw, axes, marks)
    _series(draw, axes, series, points)
    image.save(path)
    return path


@dataclass(frozen=True, slots=True)
class _Axes:
    """The plot area of a line chart and the data ranges it shows."""

    xlim: tuple[float, float]
    ylim: tuple[float, float]
    x0: float = LEFT
    x1: float = WIDTH - RIGHT
    y0: float = HEIGHT - BOTTOM
    y1: float = TOP

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        """Pixel position of a data point, clipped to the ranges."""
        xlim, ylim = self.xlim, self.ylim
        fx = (min(max(x, xlim[0]), xlim[1]) - xlim[0]) / ((xlim[1] - xlim[0]) or 1)
        fy = (min(max(y, ylim[0]), ylim[1]) - ylim[0]) / ((ylim[1] - ylim[0]) or 1)
        return self.x0 + fx * (self.x1 - self.x0), self.y0 + fy * (self.y1 - self.y0)


def _grid(draw: ImageDraw.ImageDraw, axes: _Axes) -> None:
    """Five grid lines per axis, with their values."""
    font = _font(11)
    xlim, ylim = axes.xlim, axes.ylim
    for i in range(5):
        fx, fy = xlim[0] + i * (xlim[1] - xlim[0]) / 4, ylim[0] + i * (ylim[1] - ylim[0]) / 4
        px, _ = axes.to_px(fx, ylim[0])
        _, py = axes.to_px(xlim[0], fy)
        draw.line((px, axes.y0, px, axes.y1), fill="#e5e5e5")
        draw.line((axes.x0, py, axes.x1, py), fill="#e5e5e5")
        draw.text((px, axes.y0 + 4), f"{fx:.3g}", fill="black", font=font, anchor="ma")
        draw.text((axes.x0 - 4, py), f"{fy:.3g}", fill="black", font=font, anchor="rm")


def _marks(draw: ImageDraw.ImageDraw, axes: _Axes, marks: Sequence[tuple[float, str]]) -> None:
    """Labelled vertical lines."""
    font = _font(11)
    for x, label in marks:
        px, _ = axes.to_px(x, axes.ylim[0])
        draw.line((px, axes.y0, px, axes.y1), fill="#555555", width=1)
        right = px > (axes.x0 + axes.x1) / 2  # keep the label inside the frame
        draw.text(
            (px - 3 if right else px + 3, axes.y1 + 3),
            label,
            fill="#555555",
            font=font,
            anchor="ra" if right else "la",
        )


def _series(draw: ImageDraw.ImageDraw, axes: _Axes, series: Sequence[Series], points: bool) -> None:
    """Each series as a line (and points), with its legend entry."""
    font = _font(11)
    x1, y1 = axes.x1, axes.y1
    for i, (name, xs, ys) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        pts = [axes.to_px(x, y) for x, y in zip(xs, ys, strict=True)]
        if len(pts) > 1:
            draw.line(pts, fill=colour, width=2)
        if points or len(pts) == 1:
            for px, py in pts:
                draw.ellipse((px - 3, py - 3, px + 3, py + 3), fill=colour)
        draw.line((x1 - 150, y1 + 12 + 16 * i, x1 - 130, y1 + 12 + 16 * i), fill=colour, width=3)
        draw.text((x1 - 125, y1 + 12 + 16 * i), name, fill="black", font=font, anchor="lm")


def bar_chart(path: Path, bars: Sequence[tuple[str, float]], *, title: str, xlabel: str) -> Path:
    """Draw labelled horizontal bars (largest first as given) and write a PNG.

    Args:
        path: the PNG to write.
        bars: (label, value) per bar, drawn top to bottom.
        title: the chart title.
        xlabel: the value axis label.

    Returns:
        The path written.
    """
    image, draw = _frame(title, xlabel, "")
    font = _font(12)
    top = max((v for _, v in bars), default=1.0) or 1.0
    rows = max(1, len(bars))
    step = (HEIGHT - BOTTOM - TOP - 10) / rows
    for i, (label, value) in enumerate(bars):
        y = TOP + 5 + i * step
        x_end = LEFT + (value / top) * (WIDTH - RIGHT - LEFT - 50)
        draw.rectangle((LEFT + 1, y + 2, x_end, y + step - 3), fill=COLOURS[0])
        draw.text((LEFT - 6, y + step / 2), label, fill="black", font=font, anchor="rm")
        draw.text((x_end + 4, y + step / 2), f"{value:g}", fill="black", font=font, anchor="lm")
    image.save(path)
    return path
