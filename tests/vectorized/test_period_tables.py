"""The small tables of a bulk run in two steps (resolved once, then cut per period) are the very
tables from_dataset derives for that period."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from attain.core.dataset import DataSet
from attain.core.periods import CALENDAR, parse_period
from attain.core.records import MetricObservation, OrgTerm, Participant, Quota
from attain.engine.vectorized.sources import from_dataset, period_tables, resolved_tables

LABELS = ("2025", "2025-Q4", "2025-12", "2026", "2026-Q1", "2026-Q2", "2026-01", "2026-02", "2026-03", "2026-05",
          "2027-Q1")
DAYS = st.one_of(st.none(), st.integers(-60, 200).map(lambda n: date(2026, 1, 1) + timedelta(days=n)))


@st.composite
def datasets(draw: st.DrawFn) -> DataSet:
    people, terms, quotas, observations = [], [], [], []
    for n in range(draw(st.integers(0, 6))):
        pid = f"p{n}"
        people.append(Participant(id=pid, name=pid.upper(), role="ae", team=draw(st.sampled_from(["east", "west"])),
                                  start_date=draw(DAYS), end_date=draw(DAYS)))
        # Terms in any order, possibly overlapping, possibly with a gap in which none holds.
        for _ in range(draw(st.integers(0, 3))):
            start, end = draw(DAYS), draw(DAYS)
            terms.append(OrgTerm(participant_id=pid, role=draw(st.sampled_from(["ae", "se", "manager"])),
                                 team=draw(st.sampled_from(["east", "west", "north"])), manager_id=None,
                                 effective_from=start, effective_to=end))
        for label in draw(st.lists(st.sampled_from(LABELS), unique=True, max_size=4)):
            quotas.append(Quota(participant_id=pid, metric=draw(st.sampled_from(["bookings", "count"])), period=label,
                                amount=draw(st.sampled_from([Decimal("100000"), Decimal("2.5"), Decimal("12345.67")]))))
        for label in draw(st.lists(st.sampled_from(LABELS), unique=True, max_size=3)):
            observations.append(MetricObservation(participant_id=pid, metric="csat", period=label,
                                                  value=draw(st.sampled_from([Decimal("4.25"), Decimal(3)]))))
    unique_quotas = {(q.participant_id, q.metric, q.period): q for q in quotas}
    order = draw(st.permutations(terms))
    return DataSet(participants=tuple(people), org_terms=tuple(order),
                   quotas=tuple(sorted(unique_quotas.values(), key=lambda q: (q.participant_id, q.metric, q.period))),
                   observations=tuple(sorted(observations, key=lambda o: (o.participant_id, o.metric, o.period))))


@settings(max_examples=150, deadline=None)
@given(data=datasets(), label=st.sampled_from(["2026-Q1", "2026-02", "2026-Q2", "2026"]),
       windowed=st.booleans())
def test_period_tables_are_from_datasets_tables(data: DataSet, label: str, windowed: bool) -> None:
    period = parse_period(label, CALENDAR)
    window = (date(2026, 1, 1), date(2027, 1, 1)) if windowed else None

    def inside(text: str) -> bool:
        p = parse_period(text, CALENDAR)
        return window is None or (p.start < window[1] and window[0] < p.end)

    cut = DataSet(participants=data.participants, org_terms=data.org_terms,
                  quotas=tuple(q for q in data.quotas if inside(q.period)),
                  observations=tuple(o for o in data.observations if inside(o.period)))
    expected = from_dataset(cut, period, "USD", CALENDAR)
    found = period_tables(resolved_tables(data), period, CALENDAR, window)
    for name in ("participants", "quotas", "observations"):
        table = getattr(expected, name).to_pyarrow()
        assert found[name].schema == table.schema, name
        assert found[name].to_pylist() == table.to_pylist(), name


def test_the_term_in_force_on_the_periods_last_day_gives_role_and_team() -> None:
    # p1 moves from east to west on 15 March; p2's only term ended in January (their own row
    # then applies); p3 has two terms from the same day (the later one listed wins, as in Org).
    people = (Participant(id="p1", name="P1", role="ae", team="east"),
              Participant(id="p2", name="P2", role="ae", team="south"),
              Participant(id="p3", name="P3", role="ae", team="east"))
    terms = (OrgTerm(participant_id="p1", role="ae", team="west", manager_id=None, effective_from=date(2026, 3, 15)),
             OrgTerm(participant_id="p1", role="ae", team="east", manager_id=None, effective_to=date(2026, 3, 15)),
             OrgTerm(participant_id="p2", role="se", team="north", manager_id=None, effective_to=date(2026, 2, 1)),
             OrgTerm(participant_id="p3", role="ae", team="one", manager_id=None, effective_from=date(2026, 1, 1)),
             OrgTerm(participant_id="p3", role="lead", team="two", manager_id=None, effective_from=date(2026, 1, 1)))
    data = DataSet(participants=people, org_terms=terms)
    march = period_tables(resolved_tables(data), parse_period("2026-03", CALENDAR), CALENDAR)["participants"]
    feb = period_tables(resolved_tables(data), parse_period("2026-02", CALENDAR), CALENDAR)["participants"]
    assert [(r["participant_id"], r["role"], r["team"]) for r in march.to_pylist()] == [
        ("p1", "ae", "west"), ("p2", "ae", "south"), ("p3", "lead", "two")]
    assert [r["team"] for r in feb.to_pylist()] == ["east", "south", "two"]
