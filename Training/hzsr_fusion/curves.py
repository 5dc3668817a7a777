"""The training log as a CSV and as a hand-written SVG plot (no matplotlib needed): training
loss against step on a log scale, and, where validation ran, the network's PSNR beside the
fixed baselines'."""
import csv
import math
import os

WIDTH, HEIGHT, MARGIN = 640, 260, 56
MARKED_POINTS = 40
COLOURS = {"loss": "#1f77b4", "network": "#d62728", "classical": "#2ca02c", "source": "#7f7f7f"}


class CsvLog:
    """Appends rows to a CSV with a fixed header, writing the header for a new file only, so a
    resumed run continues the same log."""

    def __init__(self, path, fields):
        self.path, self.fields = path, fields
        if not os.path.exists(path):
            with open(path, "w", newline="") as f:
                csv.writer(f).writerow(fields)

    def append(self, row):
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([_cell(row[name]) for name in self.fields])

    def rows(self):
        with open(self.path, newline="") as f:
            return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _cell(value):
    return f"{value:.6g}" if isinstance(value, float) else value


def write_svg(path, training, validation):
    """training: rows with step and loss; validation: rows with step and <method>_psnr."""
    steps = [r["step"] for r in training] + [r["step"] for r in validation]
    x_range = (0, max(steps, default=1))
    panels = [_panel("training loss (log scale)", x_range,
                     {"loss": [(r["step"], math.log10(r["loss"])) for r in training if r["loss"] > 0]},
                     lambda v: f"{10 ** v:.3g}")]
    if validation:
        series = {m: [(r["step"], r[f"{m}_psnr"]) for r in validation] for m in ("network", "classical", "source")}
        panels.append(_panel("validation PSNR inside T's frame, median (dB)", x_range, series, lambda v: f"{v:.1f}"))
    body = "".join(f'<g transform="translate(0,{i * HEIGHT})">{p}</g>' for i, p in enumerate(panels))
    with open(path, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT * len(panels)}" '
                f'font-family="DejaVu Sans, sans-serif" font-size="11">'
                f'<rect width="100%" height="100%" fill="white"/>{body}</svg>\n')


def _panel(title, x_range, series, label):
    """One plot: axes with min/max tick labels, one polyline per series, a legend under it."""
    values = [v for points in series.values() for _, v in points]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def xy(step, value):
        return (MARGIN + plot_w * (step - x_range[0]) / max(x_range[1] - x_range[0], 1),
                MARGIN + plot_h * (high - value) / (high - low))

    parts = [f'<text x="{MARGIN}" y="{MARGIN - 12}" font-size="13">{title}</text>',
             f'<rect x="{MARGIN}" y="{MARGIN}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>',
             f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end">{label(high)}</text>',
             f'<text x="{MARGIN - 4}" y="{MARGIN + plot_h}" text-anchor="end">{label(low)}</text>',
             f'<text x="{MARGIN}" y="{MARGIN + plot_h + 16}">{x_range[0]:.0f}</text>',
             f'<text x="{MARGIN + plot_w}" y="{MARGIN + plot_h + 16}" text-anchor="end">step {x_range[1]:.0f}</text>']
    for i, (name, points) in enumerate(series.items()):
        colour = COLOURS[name]
        coordinates = [xy(step, value) for step, value in points]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)}"/>')
        if len(coordinates) <= MARKED_POINTS:  # sparse series (validation): mark each point
            parts.extend(f'<circle r="2" fill="{colour}" cx="{x:.1f}" cy="{y:.1f}"/>' for x, y in coordinates)
        parts.append(f'<text x="{MARGIN + plot_w / 3 + 90 * i}" y="{MARGIN + plot_h + 16}" fill="{colour}">{name}</text>')
    return "".join(parts)
