"""Payout-curve charts: inline SVG drawn offline with matplotlib, for statements and plan documents.

The curve is the plan's own definition: each point is the mechanic's `pay` on figures (value,
quota, target incentive) over a range of attainment. The payee's position is read from their
line's metric reading; nothing about the payee is recomputed here. Money is Decimal up to the
moment a point becomes a drawing coordinate: only the coordinates handed to matplotlib are
floats, and they are never read back as money.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

import matplotlib

matplotlib.use("Agg")  # before any figure exists: no display, no GUI toolkit, ever

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from attain.core.money import HUNDRED, ZERO
from attain.core.plan import Accelerator, Aggregate, Basis, ComponentBase, Plan, Pool
from attain.engine.mechanics import mechanic_for
from attain.engine.results import Figures, MetricReading

INK = "#1b2a41"
MUTED = "#6b7785"
GRID = "#e3e7ec"
POSITION = "#c8553d"
PALETTE = ("#1f4e79", "#2a9d8f", "#e0a030", "#7a5195", "#8d99ae", "#3d5a80")
SAMPLES = 240
DEFAULT_QUOTA = Decimal(1_000_000)
DEFAULT_COUNT_QUOTA = Decimal(20)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartBasis:
    """The figures a curve is drawn with: the quota, the target incentive, and where they came from."""

    quota: Decimal
    target_incentive: Decimal | None
    assumed: tuple[str, ...]


def curve_component(component: ComponentBase) -> ComponentBase | None:
    """The component whose `pay` draws the curve: itself, a pool's funding rule, or None (SPIFFs)."""
    if isinstance(component, Pool):
        return component.funding
    return component if mechanic_for(component).pay is not None else None


def has_curve(component: ComponentBase) -> bool:
    return curve_component(component) is not None


def example_quota(plan: Plan, component: ComponentBase) -> Decimal | None:
    """A quota the plan itself suggests: fixed on the component, or used in its worked examples."""
    if component.quota is not None:
        return component.quota
    for example in plan.examples:
        for metric, amount in example.quotas:
            if metric == component.quota_key and amount > 0:
                return amount
    return None


def chart_basis(plan: Plan, component: ComponentBase, position: MetricReading | None = None) -> ChartBasis:
    """The quota and target incentive to draw with: the payee's own when known, else the plan's
    (its fixed quota or its worked examples), else a round synthetic quota, stated as assumed."""
    assumed: list[str] = []
    quota = position.quota if position is not None and position.quota else None
    if quota is None:
        quota = example_quota(plan, component)
    if quota is None:
        metric = plan.metric(component.metric)
        quota = DEFAULT_COUNT_QUOTA if metric is not None and metric.aggregate is Aggregate.COUNT else DEFAULT_QUOTA
        assumed.append(f"an example quota of {quota:,}")
    return ChartBasis(quota=quota, target_incentive=component.target_incentive, assumed=tuple(assumed))


def pay_at(component: ComponentBase, value: Decimal, basis: ChartBasis) -> Decimal:
    """What the plan's rule pays at a metric value, within the component's own cap and floor
    (before gates, reductions and rounding, which depend on the payee rather than the curve)."""
    paying = curve_component(component)
    if paying is None:
        raise ValueError(f"{component.id} has no payout curve")
    figures = Figures(value=value, quota=basis.quota, target_incentive=basis.target_incentive)
    amount = mechanic_for(paying).pay(paying, figures).amount  # type: ignore[misc]
    if component.cap is not None:
        amount = min(amount, component.cap.resolve(component.target_incentive))
    if component.floor is not None:
        amount = max(amount, component.floor.resolve(component.target_incentive))
    return amount


def breakpoints(component: ComponentBase, quota: Decimal) -> list[Decimal]:
    """Metric values where the rule changes: thresholds, step points, tier bounds, band thresholds."""
    paying = curve_component(component)
    if paying is None:
        return []
    basis = Basis.ATTAINMENT if isinstance(paying, Accelerator) else getattr(paying, "basis", Basis.ATTAINMENT)
    points: list[Decimal] = []
    threshold = getattr(paying, "threshold", None)
    if isinstance(threshold, Decimal):
        points.append(threshold)
    points.extend(step.at for step in getattr(paying, "steps", ()))
    for tier in getattr(paying, "tiers", ()):
        points.append(tier.lower)
        if tier.upper is not None:
            points.append(tier.upper)
    points.extend(band.threshold for band in getattr(paying, "bands", ()))
    values = [p * quota if basis is Basis.ATTAINMENT else p for p in points]
    return sorted({v for v in values if v > 0})


def _range_top(points: Sequence[Decimal], quota: Decimal, position: MetricReading | None) -> Decimal:
    top = quota * Decimal("1.5")
    if points:
        top = max(top, max(points) * Decimal("1.25"))
    if position is not None and position.value is not None:
        top = max(top, position.value * Decimal("1.15"))
    return top


def _sample_values(points: Sequence[Decimal], top: Decimal) -> list[Decimal]:
    """Even samples plus each breakpoint and a hair before it, so a jump draws as a vertical step."""
    hair = top / Decimal(1_000_000)
    values = {top * i / SAMPLES for i in range(SAMPLES + 1)}
    for point in points:
        values.update({point - hair, point, point + hair})
    return sorted(v for v in values if ZERO <= v <= top)


def _svg(figure: Figure, salt: str, title: str, standalone: bool) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", transparent=True)
    text = buffer.getvalue()
    if standalone:
        return text
    # Inline in HTML: no XML prolog, DOCTYPE, RDF metadata or namespace URLs (the HTML parser puts
    # inline <svg> and xlink:href in their namespaces itself), and a size that scales with the page.
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart" role="img"', text, count=1)
    return text.replace(">", f"><title>{escape(title)}</title>", 1)


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100)
    return figure


def _style(ax: object, currency: str, x_is_attainment: bool) -> None:
    ax.spines[["top", "right"]].set_visible(False)  # type: ignore[attr-defined]
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)  # type: ignore[attr-defined]
    ax.tick_params(colors=MUTED, labelsize=8)  # type: ignore[attr-defined]
    ax.grid(True, color=GRID, linewidth=0.8)  # type: ignore[attr-defined]
    ax.set_axisbelow(True)  # type: ignore[attr-defined]
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # type: ignore[attr-defined]
    if x_is_attainment:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))  # type: ignore[attr-defined]
        ax.set_xlabel("attainment of quota", color=MUTED, fontsize=8)  # type: ignore[attr-defined]
    ax.set_ylabel(f"payout ({currency})", color=MUTED, fontsize=8)  # type: ignore[attr-defined]


def _x(value: Decimal, quota: Decimal) -> float:
    # Drawing coordinate only: attainment in percent, as a float for matplotlib.
    return float(value / quota * HUNDRED)


def _y(amount: Decimal) -> float:
    # Drawing coordinate only: a payout height, never read back as money.
    return float(amount)


def _mark_position(ax: object, position: MetricReading, height: Decimal, quota: Decimal, currency: str,
                   paid: Decimal | None, x_top: float) -> None:
    """A dashed line and a dot at the payee's attainment, labelled with what the line paid."""
    assert position.value is not None
    x = _x(position.value, quota)
    label = f"you: {x:.1f}%"
    if paid is not None:
        label += f" → {paid:,.2f} {currency}"
    ax.axvline(x, color=POSITION, linestyle="--", linewidth=1.1, gid="payee-position-line")  # type: ignore[attr-defined]
    ax.plot([x], [_y(height)], marker="o", markersize=7, color=POSITION, zorder=5,  # type: ignore[attr-defined]
            gid="payee-position")
    if paid is not None and paid != height:
        # Gates, reductions or a plan cap moved the payout off the curve: show where it landed.
        ax.plot([x], [_y(paid)], marker="D", markersize=6, markerfacecolor="white",  # type: ignore[attr-defined]
                markeredgecolor=POSITION, color=POSITION, zorder=5, gid="payee-paid")
    # Put the label on the side with more room, clear of a jump at the threshold just ahead.
    left = x > x_top / 2
    ax.annotate(label, xy=(x, _y(height)), xytext=(-8 if left else 8, 14), textcoords="offset points",  # type: ignore[attr-defined]
                ha="right" if left else "left", color=POSITION, fontsize=8.5, fontweight="bold",
                gid="payee-position-label",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": POSITION, "lw": 0.6})


def payout_curve_svg(
    plan: Plan,
    component: ComponentBase,
    position: MetricReading | None = None,
    *,
    paid: Decimal | None = None,
    width: float = 8.0,
    height: float = 3.2,
    standalone: bool = False,
) -> str:
    """The component's payout curve as inline SVG, with the payee's position marked when given.

    A milestone draws as a step that jumps at its threshold; tiers and accelerators as a curve
    whose slope changes at each bound. `paid` (the line's amount) labels the marker. The SVG is
    ready to inline in HTML; `standalone=True` keeps the XML prolog and namespaces for a file.
    """
    return combined_curve_svg(plan, (component,), position, paid=paid, width=width, height=height,
                              standalone=standalone)


def combined_curve_svg(
    plan: Plan,
    components: Sequence[ComponentBase],
    position: MetricReading | None = None,
    *,
    paid: Decimal | None = None,
    width: float = 8.0,
    height: float = 3.2,
    standalone: bool = False,
) -> str:
    """Components on the same metric stacked into one curve of total pay against attainment
    (e.g. a milestone that jumps at 100% with an accelerator rising above it)."""
    drawn = [c for c in components if has_curve(c)]
    if not drawn:
        raise ValueError("none of these components has a payout curve")
    first = drawn[0]
    basis = chart_basis(plan, first, position)
    points = sorted({p for c in drawn for p in breakpoints(c, basis.quota)})
    top = _range_top(points, basis.quota, position)
    values = _sample_values(points, top)
    curves: list[list[Decimal]] = []
    for component in drawn:
        own = ChartBasis(quota=basis.quota, target_incentive=component.target_incentive, assumed=basis.assumed)
        curves.append([pay_at(component, v, own) for v in values])
    totals = [sum(amounts, ZERO) for amounts in zip(*curves, strict=True)]

    figure = _new_figure(width, height)
    ax = figure.add_subplot()
    xs = [_x(v, basis.quota) for v in values]
    if len(drawn) > 1:
        ax.stackplot(xs, [[_y(a) for a in curve] for curve in curves], colors=PALETTE[: len(drawn)],
                     alpha=0.28, labels=[c.label or c.id for c in drawn], linewidth=0)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    else:
        ax.fill_between(xs, [_y(t) for t in totals], color=PALETTE[0], alpha=0.10, linewidth=0)
    ax.plot(xs, [_y(t) for t in totals], color=PALETTE[0], linewidth=2, gid="payout-curve")
    ax.axvline(100, color=MUTED, linestyle=":", linewidth=1)
    y_top = _y(max(totals)) if totals else 1.0
    ax.set_xlim(0, _x(top, basis.quota))
    ax.set_ylim(0, max(y_top * 1.2, 1.0))
    ax.annotate("quota", xy=(100, 0), xytext=(3, 3), textcoords="offset points", color=MUTED, fontsize=7.5)
    _style(ax, plan.currency, True)
    if position is not None and position.value is not None:
        here = sum((pay_at(c, position.value, ChartBasis(quota=basis.quota, target_incentive=c.target_incentive,
                                                        assumed=())) for c in drawn), ZERO)
        _mark_position(ax, position, here, basis.quota, plan.currency, paid, _x(top, basis.quota))
    figure.tight_layout()
    salt = f"{plan.id}-{'-'.join(c.id for c in drawn)}-{position.value if position else ''}"
    title = f"Payout curve: {' + '.join(c.label or c.id for c in drawn)}"
    if position is not None and position.attainment is not None:
        title += f"; payee at {position.attainment * HUNDRED:.1f}% of quota"
    return _svg(figure, salt, title, standalone)
