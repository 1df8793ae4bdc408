"""The HTML payout statement: one self-contained page (inline CSS and SVG) for one payee and period.

Sits after the engine beside the text statement: the same explanations (formats.explain_text)
rendered through a Jinja2 template, plus the plan's payout curve with the payee's position
(formats.charts). Nothing is fetched from the network and nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from attain.core.money import ZERO, format_ratio
from attain.core.plan import ComponentBase, Plan
from attain.engine.results import PayeeResult, PayoutLine
from attain.reports.charts import combined_curve_svg, has_curve
from attain.reports.explain_text import LineExplanation, explain_statement, money, number


@cache
def environment() -> Environment:
    """The template environment shared by Attain's HTML documents (autoescaped, strict)."""
    env = Environment(
        loader=PackageLoader("attain.reports", "templates"),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["stylesheet"] = Markup(env.loader.get_source(env, "base.css")[0])  # type: ignore[union-attr]
    return env


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """A payout curve to show: its title, the inline SVG, and a caption saying where the payee is."""

    title: str
    svg: Markup
    caption: str


def statement_charts(payee: PayeeResult, plan: Plan) -> tuple[Chart, ...]:
    """One chart per metric and period: the components measured on it stacked into one curve, with
    the payee's position from their line's metric reading and the sum of those lines' amounts."""
    groups: dict[tuple[str, str], list[tuple[PayoutLine, ComponentBase]]] = {}
    for line in payee.lines:
        component = plan.component(line.component_id)
        if component is None or not has_curve(component) or line.metric.value is None:
            continue
        groups.setdefault((line.metric.name, line.period), []).append((line, component))
    charts = []
    for (metric, period), members in groups.items():
        lines = [line for line, _ in members]
        components = [component for _, component in members]
        reading = lines[0].metric
        paid = sum((line.amount for line in lines), ZERO)
        svg = combined_curve_svg(plan, components, reading, paid=paid)
        where = f"{metric} {number(reading.value)}"
        if reading.attainment is not None:
            where += f" against a quota of {number(reading.quota)}: {format_ratio(reading.attainment)} of quota"
        charts.append(Chart(
            title=f"{' + '.join(c.label or c.id for c in components)} · {period}",
            svg=Markup(svg),
            caption=f"You are at {where}; these lines pay {money(paid, payee.currency)}. "
                    "The curve is the plan's rule; gates and reductions, if any, apply on top.",
        ))
    return tuple(charts)


def render_statement_html(payee: PayeeResult, plan: Plan, *, generated_on: str | None = None) -> str:
    """The payee's statement as one self-contained HTML page: header with the total, the lines
    in a table, each line explained in a section that opens and closes, and the payout curves."""
    explanations: Sequence[LineExplanation] = explain_statement(payee, plan)
    template = environment().get_template("statement.html.j2")
    return template.render(
        payee=payee,
        plan=plan,
        total=money(payee.total, payee.currency),
        explanations=explanations,
        rows=[_summary_row(e, payee.currency) for e in explanations],
        charts=statement_charts(payee, plan),
        generated_on=generated_on,
    )


def _summary_row(explanation: LineExplanation, currency: str) -> dict[str, str]:
    line = explanation.line
    attainment = format_ratio(line.metric.attainment) if line.metric.attainment is not None else ""
    return {
        "anchor": f"line-{line.component_id}-{line.period}",
        "label": line.component_label,
        "kind": line.kind.replace("_", " "),
        "period": line.period,
        "attainment": attainment,
        "amount": money(line.amount, currency, code=False),
        "why": explanation.reason,
    }
