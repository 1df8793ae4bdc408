"""A seeded generator of the demo company's data folder: people, quotas, deals, splits, metrics.

The same seed always writes the same files, so the demo, the docs and the scenario tests agree.
Attainments are drawn from a fixed list so every story appears: exactly at quota, just short
(98%), well above, and far below.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

QUARTER_START = date(2026, 1, 1)
QUARTER_DAYS = 90
AE_QUOTA = Decimal(1_800_000)
AE_ATTAINMENTS = ("0.62", "0.81", "0.88", "0.93", "0.97", "0.98", "0.995", "1.00", "1.04", "1.12", "1.20", "1.35")
FIRST_NAMES = ("Ada", "Bruno", "Chen", "Dara", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kemi", "Luca",
               "Mira", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma", "Viktor", "Wen", "Yara")
LAST_NAMES = ("Alvarez", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
              "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Varga")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoFiles:
    """Where the generator wrote the demo workspace's plans and data."""

    root: Path
    plans: tuple[Path, ...]
    data: Path


def plan_sources() -> dict[str, str]:
    """The demo plans shipped with Attain, by file name."""
    folder = resources.files("attain.demo") / "plans"
    return {item.name: item.read_text(encoding="utf-8") for item in folder.iterdir() if item.name.endswith(".yaml")}


class _Company:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        self.rng.shuffle(names)
        self.names = iter(names)
        self.participants: list[list[str]] = []
        self.quotas: list[list[str]] = []
        self.deals: list[list[str]] = []
        self.splits: list[list[str]] = []
        self.metrics: list[list[str]] = []
        self.deal_count = 0

    def person(self, pid: str, role: str, team: str, manager: str, name: str | None = None,
               start: str = "2024-01-01") -> str:
        self.participants.append([pid, name or next(self.names), role, team, manager, start, ""])
        return pid

    def day(self) -> date:
        return QUARTER_START + timedelta(days=self.rng.randrange(QUARTER_DAYS))

    def deal(self, owner: str, amount: Decimal, *, status: str = "won", currency: str = "USD",
             source: str = "direct", deal_type: str | None = None, delivered: str = "100",
             booked: date | None = None) -> str:
        self.deal_count += 1
        deal_id = f"D-{self.deal_count:05d}"
        booked = booked or self.day()
        deal_type = deal_type or self.rng.choice(("new_logo", "expansion", "expansion"))
        product = self.rng.choice(("platform", "analytics", "platform", "services"))
        self.deals.append([deal_id, owner, f"{amount:.2f}", currency, booked.isoformat(),
                           (booked + timedelta(days=2)).isoformat(), (booked + timedelta(days=10)).isoformat(),
                           (booked + timedelta(days=30)).isoformat(), status, delivered, deal_type, source, product])
        return deal_id

    def bookings(self, owner: str, total: Decimal, source: str = "direct") -> list[str]:
        """Won deals summing exactly to `total`."""
        ids = []
        remaining = total
        while remaining > 0:
            size = Decimal(self.rng.randrange(40, 260) * 1000)
            amount = min(size, remaining)
            ids.append(self.deal(owner, amount, source=source))
            remaining -= amount
        return ids


def generate(root: Path, seed: int = 2026) -> DemoFiles:
    """Write `root/plans/*.yaml` and `root/data/*.csv` for the demo company (Q1 2026)."""
    company = _Company(seed)
    rng = company.rng
    company.person("cro", "cro", "leadership", "", name="Morgan Reyes")
    managers = [company.person(f"mgr-{t}", "manager", t, "cro") for t in ("east", "west")]
    attainments = list(AE_ATTAINMENTS)
    rng.shuffle(attainments)
    attainments[attainments.index("1.00")], attainments[2] = attainments[2], "1.00"
    aes = []
    for index, attainment in enumerate(attainments):
        team = ("east", "west")[index % 2]
        pid = company.person(f"ae-{index + 1:02d}", "ae", team, managers[index % 2])
        aes.append(pid)
        company.quotas.append([pid, "bookings", "2026-Q1", f"{AE_QUOTA}"])
        company.bookings(pid, (AE_QUOTA * Decimal(attainment)).quantize(Decimal(1)))
    ses = [company.person(f"se-{i}", "se", t, managers[i - 1]) for i, t in ((1, "east"), (2, "west"))]
    # overlays: sales engineers get full credit beside the owner on the largest deals
    for deal in sorted(company.deals, key=lambda d: -Decimal(d[2]))[:6]:
        company.splits.append([deal[0], ses[int(deal[0][-1]) % 2], "100", "se"])
    # a shared deal split 50/50 between two account executives (attainments unchanged in total)
    shared = company.deal(aes[0], Decimal(200_000), deal_type="new_logo", booked=date(2026, 3, 12))
    company.splits += [[shared, aes[0], "50", "split"], [shared, aes[1], "50", "split"]]
    # stories: an open deal (not yet credited), a cancelled deal, a partial delivery, a euro deal
    company.deal(aes[3], Decimal(400_000), status="open")
    company.deal(aes[4], Decimal(150_000), status="cancelled")
    company.deal(aes[5], Decimal(120_000), delivered="50", deal_type="expansion")
    company.deal(aes[6], Decimal(90_000), currency="EUR", deal_type="new_logo", booked=date(2026, 3, 20))
    for i in range(5):
        pid = company.person(f"csm-{i + 1}", "csm", "success", "cro")
        renewal = ("0.86", "0.90", "0.93", "0.97", "0.92")[i]
        csat = ("4.5", "4.4", "4.1", "4.7", "4.3")[i]
        escalations = ("0", "1", "0", "0", "3")[i]
        company.metrics += [[pid, "renewal_rate", "2026-Q1", renewal], [pid, "csat", "2026-Q1", csat],
                            [pid, "escalations", "2026-Q1", escalations]]
    for i in range(4):
        pid = company.person(f"sdr-{i + 1}", "sdr", "sdr", managers[i % 2])
        for month in ("2026-01", "2026-02", "2026-03"):
            company.quotas.append([pid, "qualified_meetings", month, "20"])
            company.metrics.append([pid, "qualified_meetings", month, str(rng.randrange(13, 27))])
    partner_totals = (Decimal(1_250_000), Decimal(1_050_000), Decimal(900_000))
    for i, total in enumerate(partner_totals):
        pid = company.person(f"pm-{i + 1}", "partner", "partners", "cro")
        company.bookings(pid, total, source="partner")
        company.metrics.append([pid, "partner_quality", "2026-Q1", ("4", "5", "3")[i]])
    agencies = (("agency-northwind", "Northwind Media", "1120", "3.6", "0.78", "0"),
                ("agency-bluepeak", "Bluepeak Digital", "1290", "3.2", "0.66", "0"),
                ("agency-harbor", "Harbor & Finch", "1210", "4.1", "0.81", "1"))
    for pid, name, leads, dwell, recall, incidents in agencies:
        company.person(pid, "agency", "agencies", "", name=name, start="2025-06-01")
        for month, share in (("2026-01", Decimal("0.3")), ("2026-02", Decimal("0.3")), ("2026-03", Decimal("0.4"))):
            company.metrics.append([pid, "qualified_leads", month, str((Decimal(leads) * share).quantize(Decimal(1)))])
        company.metrics += [[pid, "dwell_time_min", "2026-Q1", dwell], [pid, "recall", "2026-Q1", recall],
                            [pid, "brand_safety_incidents", "2026-Q1", incidents]]
    return _write(root, company)


def _write(root: Path, company: _Company) -> DemoFiles:
    data = root / "data"
    plans = root / "plans"
    data.mkdir(parents=True, exist_ok=True)
    plans.mkdir(parents=True, exist_ok=True)
    tables = {
        "participants.csv": (["id", "name", "role", "team", "manager_id", "start_date", "end_date"],
                             company.participants),
        "quotas.csv": (["participant_id", "metric", "period", "amount"], company.quotas),
        "deals.csv": (["deal_id", "owner_id", "amount", "currency", "booked_on", "signed_on", "invoiced_on",
                       "recognized_on", "status", "delivered_pct", "deal_type", "source", "product"], company.deals),
        "splits.csv": (["deal_id", "participant_id", "share", "role"], company.splits),
        "metrics.csv": (["participant_id", "metric", "period", "value"], company.metrics),
        "rates.csv": (["from_currency", "to_currency", "date", "rate"],
                      [["EUR", "USD", "2026-01-01", "1.0850"], ["EUR", "USD", "2026-03-01", "1.0920"]]),
    }
    for name, (header, rows) in tables.items():
        with (data / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    written = []
    for name, text in sorted(plan_sources().items()):
        target = plans / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return DemoFiles(root=root, plans=tuple(written), data=data)
