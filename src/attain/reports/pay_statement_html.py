"""The pay statement as one self-contained HTML page, rendered from the document model by Jinja2."""

from __future__ import annotations

from attain.reports.explain_text import money
from attain.reports.pay_statement import PayStatement
from attain.reports.statement_html import environment


def render_pay_statement_html(statement: PayStatement, *, generated_on: str | None = None) -> str:
    template = environment().get_template("pay_statement.html.j2")
    return template.render(s=statement, money=money, generated_on=generated_on)
