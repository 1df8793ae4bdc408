"""Metric values and quotas per payee and period, as tables: the set form of engine.measures.

Credit metrics (sums and counts, with their deal filters) are one aggregation per period kind
over the credits; observed metrics average, take the latest or total the observations inside
the period (else the one covering it); quotas are the exact period's, else the sum of quotas
tiling it, else a share of a covering period's quota, as QuotaBook decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from attain.core.money import ZERO
from attain.core.periods import Period
from attain.core.plan import Aggregate, MetricDef, Plan
from attain.engine.vectorized.conditions import ConditionCompiler, Typed, parse_number
from attain.engine.vectorized.numeric import Exact, Frac, force_cast
from attain.engine.vectorized.sources import FIELD_PREFIX

# A custom field no deal carries reads as no value (there is then no deal to filter).
NO_FIELD = Typed("str", ibis.null("string"))
CREDIT_COLUMNS = ("deal_id", "amount", "deal_amount", "currency", "credit_date", "rule", "share")


def ordered_concat(keyed: Any, separator: str, ops: Exact) -> Any:
    """Join the values of a group in order; each value is prefixed by its sort key and a '|'
    (the key must not contain one). Spark has no ordered string_agg, so it sorts a collected list."""
    if ops.profile.name == "pyspark":
        return keyed.collect().sort().map(lambda x: x.re_replace(r"^.*\|", "")).join(separator)
    return keyed.re_replace(r"^.*\|", "").group_concat(separator, order_by=keyed)


def subs_table(subs: Sequence[Period]) -> Any:
    return ibis.memtable(pa.table({
        "sub": [s.label for s in subs], "sub_start": pa.array([s.start for s in subs], pa.date32()),
        "sub_end": pa.array([s.end for s in subs], pa.date32()), "sub_months": [s.kind.months for s in subs],
    }))


def label_of(date_column: Any, subs: Sequence[Period]) -> Any:
    """The label of the sub-period a date falls in (dates outside every sub-period: null)."""
    if len(subs) == 1:
        # Credits are already inside the calculation period; one sub-period is all of it.
        return ibis.literal(subs[0].label)
    cases = ibis.cases(*[((date_column >= s.start) & (date_column < s.end), s.label) for s in subs],
                       else_=ibis.null("string"))
    return cases


def deal_env(credits: Any, field_names: Iterable[str], ops: Exact) -> dict[str, Typed]:
    """The names a deal filter reads (records.deal_values): custom fields, then the standard ones."""
    env = {name: Typed("str", credits[FIELD_PREFIX + name]) for name in field_names}
    env.update({
        "deal_id": Typed("str", credits.deal_id), "amount": Typed("num", Frac(credits.amount)),
        "deal_amount": Typed("num", Frac(ops.cast(credits.deal_amount))),
        "currency": Typed("str", credits.currency), "credit_date": Typed("date", credits.credit_date),
        "rule": Typed("str", credits.rule), "share": Typed("num", Frac(credits.share)),
    })
    return env


def credit_amount(metric: MetricDef, credits: Any, ops: Exact) -> Frac:
    """What one credit adds to a sum or count metric (measures.credit_value for one credit)."""
    if metric.aggregate is Aggregate.COUNT:
        return ops.const(Decimal(1))
    if metric.field == "amount":
        return Frac(credits.amount)
    raw = credits[FIELD_PREFIX + metric.field] if FIELD_PREFIX + metric.field in credits.columns else None
    if raw is None:
        return ops.zero()
    parsed = parse_number(raw, ops)
    blank = raw.isnull() | (raw.strip() == "")
    return Frac(blank.ifelse(force_cast(ops.lit(ZERO), ops.work), ops.mul(parsed.num, credits.share)))


def counted(metric: MetricDef, credits: Any, field_names: Iterable[str], ops: Exact) -> Any:
    """Whether each credit passes the metric's filter."""
    if metric.filter is None:
        return ibis.literal(True)
    return ConditionCompiler(ops, deal_env(credits, field_names, ops), missing=NO_FIELD).truth(metric.filter)


def credit_metrics(plan: Plan, names: Iterable[str], credits: Any, subs: Sequence[Period],
                   field_names: Iterable[str], ops: Exact) -> Any:
    """One row per (participant, sub-period) with a column per credit metric in `names`."""
    # With one sub-period every credit's label is the same: group by the payee alone (a one-key
    # group-by of the credits, which DuckDB runs far faster than one over a pair) and add it after.
    one = len(subs) == 1
    dated = credits if one else credits.mutate(sub=label_of(credits.credit_date, subs))
    columns = {}
    for name in sorted(names):
        metric = plan.metric(name)
        assert metric is not None and metric.uses_credits
        keep = counted(metric, dated, field_names, ops)
        if metric.aggregate is Aggregate.COUNT:
            total = dated.count(where=keep) if metric.filter is not None else dated.count()
            columns["m_" + name] = ops.natural(total)
            continue
        each = credit_amount(metric, dated, ops).num
        kept = each if metric.filter is None else keep.ifelse(each, ops.lit(ZERO))
        kind = kept.type()
        if isinstance(kind, dt.Decimal) and kind.scale is not None and kind.scale <= ops.work.scale:
            # Summed in the credits' own DECIMAL scale, then widened once per payee: the same
            # exact sum (no division comes before it), without a 128-bit rescale of every credit.
            columns["m_" + name] = ops.natural(kept.sum())
        else:
            columns["m_" + name] = force_cast(ops.cast(kept).sum(), ops.work)
    if one:
        grouped = dated.group_by("participant_id").aggregate(**columns)
        return grouped.mutate(sub=ibis.literal(subs[0].label)).relocate("sub", after="participant_id")
    return dated.group_by(["participant_id", "sub"]).aggregate(**columns)


def observed_values(observations: Any, names: Sequence[tuple[str, str, Aggregate]], subs: Any, ops: Exact) -> Any:
    """One row per (participant, sub-period, metric name) with the observed value as n / d."""
    rows = []
    for name, source, how in names:
        obs = observations.filter(observations.metric == source)
        both = obs.cross_join(subs)
        inside = both.filter((both.start >= both.sub_start) & (both.end <= both.sub_end))
        order = [ibis.desc(inside.start), ibis.desc(inside.end), ibis.desc(inside.period), ibis.desc(inside.value)]
        ranked = inside.mutate(_r=ibis.row_number().over(group_by=["participant_id", "sub"], order_by=order))
        inside_agg = ranked.group_by(["participant_id", "sub"]).aggregate(
            total=force_cast(ops.cast(ranked.value).sum(), ops.work), obs_count=ranked.value.count(),
            latest=ops.cast(ranked.value).max(where=ranked._r == 0))
        cover = both.filter((both.start <= both.sub_start) & (both.end >= both.sub_end))
        corder = [ibis.desc(cover.start), ibis.desc(cover.end), ibis.desc(cover.period), ibis.desc(cover.value)]
        cranked = cover.mutate(_r=ibis.row_number().over(group_by=["participant_id", "sub"], order_by=corder))
        covering = cranked.filter(cranked._r == 0).select("participant_id", "sub", cover_value=cranked.value)
        merged = covering.outer_join(inside_agg, ["participant_id", "sub"])
        merged = merged.select(
            participant_id=ibis.coalesce(merged.participant_id, merged.participant_id_right),
            sub=ibis.coalesce(merged.sub, merged.sub_right),
            total=merged.total, obs_count=merged.obs_count, latest=merged.latest,
            cover_value=ops.cast(merged.cover_value))
        has_inside = merged.obs_count.notnull() & (merged.obs_count > 0)
        if how is Aggregate.AVERAGE:
            n = has_inside.ifelse(merged.total, merged.cover_value)
            d = has_inside.ifelse(force_cast(merged.obs_count, ops.work), ops.lit(Decimal(1)).cast(ops.work))
        elif how is Aggregate.LATEST:
            n, d = has_inside.ifelse(merged.latest, merged.cover_value), ops.lit(Decimal(1)).cast(ops.work)
        else:
            n, d = has_inside.ifelse(merged.total, merged.cover_value), ops.lit(Decimal(1)).cast(ops.work)
        rows.append(merged.select("participant_id", "sub", name=ibis.literal(name), n=force_cast(n, ops.work),
                                  d=force_cast(d, ops.work)))
    if not rows:
        return None
    result = rows[0]
    for more in rows[1:]:
        result = result.union(more, distinct=False)
    return result


def quota_values(quotas: Any, keys: Sequence[str], subs: Any, ops: Exact) -> Any:
    """One row per (participant, quota key, sub-period): the quota as n / d and how it was found."""
    wanted = quotas.filter(quotas.metric.isin(list(keys)))
    both = wanted.cross_join(subs)
    group = ["participant_id", "metric", "sub"]
    exact = both.filter(both.period == both.sub).group_by(group).aggregate(exact=lambda t: t.amount.min())
    # The quotas tiling a sub-period and the one covering it are only read where there is no
    # quota for the sub-period itself (usually there is), so only those (payee, sub) are ranked.
    found = exact.filter(exact.exact.notnull()).select(*group)
    other = both.anti_join(found, group) if ops.profile.name != "postgres" else both.left_join(
        found.mutate(_has_exact=ibis.literal(1)), group).filter(lambda t: t._has_exact.isnull()).select(
        *both.columns)
    inside = other.filter((other.start >= other.sub_start) & (other.end <= other.sub_end))
    inside = inside.mutate(_prev_end=inside.end.lag().over(group_by=group, order_by=[inside.start, inside.end]))
    tiled = inside.group_by([*group, "sub_months"]).aggregate(
        inside_total=lambda t: force_cast(ops.cast(t.amount).sum(), ops.work),
        inside_months=lambda t: t.months.sum(),
        overlaps=lambda t: (t._prev_end.notnull() & (t._prev_end > t.start)).ifelse(1, 0).sum(),
        labels=lambda t: ordered_concat(t.start.cast("string") + "|" + t.end.cast("string") + "|" + t.period,
                                        " + ", ops),
    )
    tiled = tiled.filter((tiled.inside_months == tiled.sub_months) & (tiled.overlaps == 0))
    cover = other.filter((other.start <= other.sub_start) & (other.end >= other.sub_end))
    ranked = cover.mutate(_r=ibis.row_number().over(
        group_by=group, order_by=[cover.start, cover.end, cover.period, cover.amount]))
    covering = ranked.filter(ranked._r == 0).select(*group, cover_amount=ops.cast(ranked.amount),
                                                    cover_label=ranked.period, cover_months=ranked.months,
                                                    cover_share_months=ranked.sub_months)
    keys_grid = both.select(*group).distinct()
    out = keys_grid.left_join(exact, group).select(*group, "exact")
    out = out.left_join(tiled.drop("sub_months"), group).select(*group, "exact", "inside_total", "labels")
    out = out.left_join(covering, group).select(*group, "exact", "inside_total", "labels", "cover_amount",
                                                "cover_label", "cover_months", "cover_share_months")
    case = ibis.cases((out.exact.notnull(), "exact"), (out.inside_total.notnull(), "sum"),
                      (out.cover_amount.notnull(), "share"), else_="none")
    n = ibis.cases((out.exact.notnull(), ops.cast(out.exact)),
                   (out.inside_total.notnull(), out.inside_total),
                   (out.cover_amount.notnull(),
                    ops.mul(out.cover_amount, force_cast(out.cover_share_months, ops.work))),
                   else_=ibis.null(ops.work))
    d = (case == "share").ifelse(out.cover_months, 1)
    return out.select(*group, quota_case=case, quota_n=force_cast(n, ops.work), quota_d=ops.natural(d),
                      quota_labels=out.labels, cover_amount=out.cover_amount, cover_label=out.cover_label,
                      cover_months=out.cover_months)
