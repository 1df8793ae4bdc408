"""The pay statement as PDF, drawn by fpdf2 from the same document model as the HTML and JSON.

fpdf2 is pure Python and offline, and draws a statement in milliseconds, which is what lets
`attain statements` write hundreds of them in seconds. The built-in Helvetica covers Latin-1;
the few typographic signs outside it are written as their ASCII equivalents.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from attain.reports.explain_text import Section, money
from attain.reports.pay_statement import PayStatement, StatementLine

_ASCII = str.maketrans({"·": "-", "–": "-", "—": "-", "…": "...", "≥": ">=", "≤": "<=", "≠": "!=", "×": "x",
                        "→": "->", "▸": ">", "▾": "v", "‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})
INK = (27, 42, 65)
MUTED = (95, 107, 122)
BRAND = (31, 78, 121)
SOFT = (244, 246, 249)


def _text(value: str) -> str:
    return value.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(14, 14, 14)
        self.set_auto_page_break(True, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(*MUTED)
        self.cell(0, 4, _text(f"{self.footer_text}   Page {self.page_no()}"), align="C")


def render_pay_statement_pdf(statement: PayStatement) -> bytes:
    """The statement as PDF bytes: header and totals, the entries, draw balances, each entry explained."""
    pdf = _Document(f"Pay statement {statement.participant_id} {statement.period}: every amount is a ledger entry.")
    pdf.add_page()
    width = pdf.epw
    pdf.set_text_color(*MUTED)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, _text(f"PAY STATEMENT - {statement.period} - {statement.state.upper()}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 9, _text(statement.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    plans = "; ".join(f"{name} ({plan_id})" for plan_id, name in statement.plans)
    pdf.multi_cell(0, 5, _text(f"Participant {statement.participant_id}. Plans: {plans or 'none'}."),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 13)
    for currency in statement.currencies:
        pdf.cell(0, 8, _text(f"Total for {statement.period}: {money(statement.total(currency), currency)}"),
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _heading(pdf, "Summary")
    widths = (8, 44, 20, width - 8 - 44 - 20 - 34, 34)
    _row(pdf, widths, ("#", "Entry", "For", "Why", "Amount"), header=True)
    for line in statement.lines:
        _row(pdf, widths, (str(line.number), f"{line.label} ({line.kind_label})", line.origin, line.summary,
                           money(line.amount, line.currency)))
    for currency in statement.currencies:
        _row(pdf, widths, ("", "Total", "", "", money(statement.total(currency), currency)), bold=True)
    if statement.draws:
        _heading(pdf, "Draw balance")
        dw = (width - 3 * 34, 34, 34, 34)
        _row(pdf, dw, ("Draw", "Carried in", "This period", "Carried forward"), header=True)
        for d in statement.draws:
            kind = "recoverable" if d.recoverable else "non-recoverable"
            _row(pdf, dw, (f"{d.plan_id} ({kind})", money(d.before, d.currency), money(d.change, d.currency),
                           money(d.after, d.currency)))
    if statement.payments:
        _heading(pdf, "Paid")
        for p in statement.payments:
            _row(pdf, (width - 34, 34), (p.summary, money(p.amount, p.currency)))
    if statement.lines:
        _heading(pdf, "Entry by entry")
        for line in statement.lines:
            _entry(pdf, line)
    return bytes(pdf.output())


def _heading(pdf: FPDF, title: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_text_color(*BRAND)
    pdf.cell(0, 6, _text(title.upper()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*BRAND)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_text_color(*INK)


def _fit(text: str, width: float, size: float) -> str:
    """Text cut to a cell's width (a Helvetica character is about half its size wide, in points)."""
    room = max(3, int(width / (size * 0.3528 * 0.5)))
    return text if len(text) <= room else text[: room - 3] + "..."


def _row(pdf: FPDF, widths: tuple[float, ...], cells: tuple[str, ...], *, header: bool = False,
         bold: bool = False, size: float = 8.5, numeric: tuple[bool, ...] | None = None, indent: float = 0) -> None:
    """One table row of single-line cells (drawn with `cell`, which is what keeps a page in milliseconds);
    the last column (amounts) is right-aligned unless `numeric` says which are."""
    pdf.set_font("Helvetica", "B" if (header or bold) else "", size)
    pdf.set_fill_color(*SOFT)
    if numeric is None:
        numeric = tuple(i == len(cells) - 1 and len(cells) > 1 for i in range(len(cells)))
    if pdf.will_page_break(4.6):
        pdf.add_page()
    pdf.set_x(pdf.l_margin + indent)
    for width, cell, right in zip(widths, cells, numeric, strict=True):
        pdf.cell(width, 4.6, _text(_fit(cell, width, size)), border="B", align="R" if right else "L", fill=header)
    pdf.ln(4.6)


def _entry(pdf: FPDF, line: StatementLine) -> None:
    pdf.ln(1)
    pdf.set_fill_color(*SOFT)
    pdf.set_font("Helvetica", "B", 9.5)
    amount = money(line.amount, line.currency)
    pdf.cell(pdf.epw - 40, 6, _text(f"{line.number}. {line.label} - {line.kind_label}, for {line.origin}"), fill=True)
    pdf.cell(40, 6, _text(amount), fill=True, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for section in line.sections:
        _section(pdf, section)


def _section(pdf: FPDF, section: Section) -> None:
    pdf.set_font("Helvetica", "B", 8.5)
    title = section.title + (f" [{section.badge}]" if section.badge else "")
    pdf.multi_cell(0, 4.5, _text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=8.5)
    for sentence in section.sentences:
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(pdf.epw - 4, 4.2, _text(sentence), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if section.table is not None and section.table.rows:
        table = section.table
        each = (pdf.epw - 4) / len(table.headers)
        widths = (each,) * len(table.headers)
        _row(pdf, widths, table.headers, header=True, size=7.5, numeric=table.numeric, indent=4)
        for cells in table.rows:
            _row(pdf, widths, cells, size=7.5, numeric=table.numeric, indent=4)
    pdf.ln(1)
