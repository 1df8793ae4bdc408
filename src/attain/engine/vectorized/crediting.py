"""Set-based crediting: the rules of crediting.credit_deals as one query over deals and splits.

Won deals only, the credit date on the plan's basis, inside the window; the rate in force on
that day; pro rata delivery; split rows dividing the deal (they must sum to 100%), overlay
roles in full beside them; managers credited once per deal through the chain as of the credit
date. Deals that cannot be credited become problems, exactly as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from attain.core.money import ONE
from attain.core.periods import Period
from attain.core.plan import Plan
from attain.core.problems import Problem
from attain.crediting.credit import SHARED_ROLES
from attain.engine.vectorized.measures import ordered_concat
from attain.engine.vectorized.numeric import Exact, force_cast

RULE_ORDER = {"owner": 0, "split": 0, "overlay": 1, "rollup": 2}


@dataclass(frozen=True, slots=True)
class Credited:
    """The credits table and the queries that list the deals crediting had to skip."""

    credits: Any
    missing_date: Any
    missing_rate: Any
    bad_splits: Any


def credit_query(sources: Any, plan: Plan, period: Period, ops: Exact) -> Credited:
    """Credits with: participant_id, deal_id, credit_date, amount, share, rule, seq, via and the
    deal's own columns (deal_amount, currency, fx_rate, delivered, custom fields)."""
    rules = plan.crediting
    basis = rules.date_basis.value + "_on"
    deals = sources.deals
    won = deals.filter(deals.status == "won").mutate(credit_date=deals[basis])
    missing_date = won.filter(won.credit_date.isnull()).select("deal_id")
    dated = won.filter(won.credit_date.notnull() & (won.credit_date >= period.start) & (won.credit_date < period.end))
    # Per-row products stay in the input's own DECIMAL types (exact, and what a hand-written
    # query would do); the working type is only reached after aggregation.
    delivered = _times(dated.amount, dated.delivered, ops) if rules.pro_rata_delivery else dated.amount
    if sources.fx_rows:
        fx = sources.fx
        joined = dated.join(fx, [dated.currency == fx.currency, dated.credit_date >= fx.valid_from,
                                 dated.credit_date < fx.valid_to], how="left")
        joined = joined.mutate(fx_rate=(joined.currency == plan.currency).ifelse(
            ops.lit(ONE).cast(fx.rate.type()), joined.rate))
        missing_rate = joined.filter(joined.fx_rate.isnull()).select("deal_id", "currency", "credit_date")
        priced = joined.filter(joined.fx_rate.notnull()).drop("currency_right", "valid_from", "valid_to", "rate")
        priced = priced.mutate(credited=_times(_times(priced.amount, priced.delivered, ops)
                                               if rules.pro_rata_delivery else priced.amount, priced.fx_rate, ops))
    else:
        missing_rate = dated.filter(dated.currency != plan.currency).select("deal_id", "currency", "credit_date")
        priced = dated.filter(dated.currency == plan.currency).mutate(credited=delivered,
                                                                       fx_rate=ops.lit(ONE))
    if not rules.pro_rata_delivery:
        priced = priced.mutate(delivered=ops.lit(ONE))

    splits = sources.splits
    overlay_roles = list(rules.overlay_roles)
    shared_roles = [r for r in SHARED_ROLES if r not in overlay_roles]
    deal_splits = _semi(splits, priced.select("deal_id"), ["deal_id"], ops)
    shared = deal_splits.filter(deal_splits.role.isin(shared_roles)) if shared_roles else deal_splits.filter(False)
    totals = shared.group_by("deal_id").aggregate(total=ops.cast(shared.share.sum()))
    # The deals crediting skips for their splits (a problem each): only those in the window.
    bad_splits = totals.filter(totals.total != ops.lit(ONE))
    share_type = splits.share.type()
    deal_columns = [c for c in priced.columns if c not in ("owner_id", "status", "amount", "credited")]
    # The credits are one pass over the deals: a left join to the (small) table of split shares
    # of deals whose splits sum to 100%, deals whose splits do not dropped. The split totals are
    # taken over all split rows (a deal's total does not depend on the window), so the deals are
    # read once and streamed, never materialized for a second use.
    all_shared = splits.filter(splits.role.isin(shared_roles)) if shared_roles else splits.filter(False)
    all_totals = all_shared.group_by("deal_id").aggregate(total=ops.cast(all_shared.share.sum()))
    good_deals = all_totals.filter(all_totals.total == ops.lit(ONE)).select("deal_id")
    bad_deals = all_totals.filter(all_totals.total != ops.lit(ONE)).select("deal_id")
    merged = _semi(all_shared, good_deals, ["deal_id"], ops).group_by(["deal_id", "participant_id"]).aggregate(
        share=lambda t: t.share.sum().cast(share_type))
    creditable = _anti(priced, bad_deals, ["deal_id"], ops)
    split_shares = merged.rename(_split_deal="deal_id", _split_pid="participant_id", _split_share="share")
    joined = creditable.left_join(split_shares, creditable.deal_id == split_shares._split_deal)
    split_row = joined._split_pid.notnull()
    payee = split_row.ifelse(joined._split_pid, joined.owner_id)
    share = split_row.ifelse(joined._split_share, ops.lit(ONE).cast(share_type))
    # Deals without split rows credit their owner in full (no product: credited x 1 is credited).
    # Both branches are cast to the credit type first: a CASE over two DECIMAL(38) types of
    # different scales would be given a narrower scale by the database.
    credit_type = _credit_type(priced, share_type)
    amount = force_cast(split_row.ifelse(force_cast(_times(joined.credited, joined._split_share, ops), credit_type),
                                         force_cast(joined.credited, credit_type)), credit_type)
    direct_credits = joined.select(
        *deal_columns, participant_id=payee, share=share,
        rule=(~split_row | (payee == joined.owner_id)).ifelse("owner", "split"), seq=ibis.literal(0),
        via=ibis.null("string"), amount=amount, deal_amount=joined.amount)
    parts = [direct_credits]
    if overlay_roles or (rules.rollup and sources.chain is not None):
        # Overlays and roll-ups need every direct credit's (deal, participant): only then is
        # the deal table read a second time.
        owners = _anti(priced, all_totals, ["deal_id"], ops)
        direct = merged.select("deal_id", "participant_id", "share", seq=ibis.literal(0)).union(
            owners.select("deal_id", participant_id=owners.owner_id, share=ops.lit(ONE).cast(share_type),
                          seq=ibis.literal(0)), distinct=False)
    if overlay_roles:
        overlays = _anti(deal_splits.filter(deal_splits.role.isin(overlay_roles)), bad_splits, ["deal_id"], ops)
        overlays = _anti(overlays, direct, ["deal_id", "participant_id"], ops).select(
            "deal_id", "participant_id", share=ops.lit(ONE).cast(share_type)).distinct()
        parts.append(_credits_for(overlays, priced, deal_columns, ops).drop("_owner").mutate(
            rule=ibis.literal("overlay"), seq=ibis.literal(1)))
        direct = direct.union(overlays.mutate(seq=ibis.literal(1)), distinct=False)
    if rules.rollup and sources.chain is not None:
        good = _anti(priced, bad_splits, ["deal_id"], ops)
        rollups = _rollups(direct, good, sources.chain, ops)
        parts.append(_credits_for(rollups.select("deal_id", "participant_id", "share", "via"), priced, deal_columns,
                                  ops, keep_via=True).drop("_owner").mutate(rule=ibis.literal("rollup"),
                                                                            seq=ibis.literal(2)))
    order = [*deal_columns, "participant_id", "share", "rule", "seq", "via", "amount", "deal_amount"]
    credits = parts[0].select(order)
    for part in parts[1:]:
        credits = credits.union(part.select(order), distinct=False)
    return Credited(credits=credits, missing_date=missing_date, missing_rate=missing_rate, bad_splits=bad_splits)


def _anti(left: Any, right: Any, keys: list[str], ops: Exact) -> Any:
    """Rows of `left` with no match in `right` on `keys`."""
    if ops.profile.name != "postgres":
        return left.anti_join(right, keys)
    # Ibis 12 with sqlglot 30 writes PostgreSQL an ANTI JOIN it does not have: spell it out as a
    # left join kept where the right side's key is null. The key (not a constant column) is what
    # lets PostgreSQL see an anti join: the join condition cannot hold on a null key, so it plans a
    # Hash Anti Join and estimates its rows, where a constant's IS NULL was guessed to keep 0.5%
    # of the deals (4,315 of 863,635), and the credits were then grouped by sorting.
    marks = right.select(*keys).distinct().rename({f"_anti{i}": key for i, key in enumerate(keys)})
    joined = left.left_join(marks, [left[key] == marks[f"_anti{i}"] for i, key in enumerate(keys)])
    return joined.filter(joined._anti0.isnull()).select(*left.columns)


def _semi(left: Any, right: Any, keys: list[str], ops: Exact) -> Any:
    """Rows of `left` with a match in `right` on `keys`."""
    if ops.profile.name != "postgres":
        return left.semi_join(right, keys)
    return left.join(right.select(*keys).distinct(), keys).select(*left.columns)


def _credit_type(priced: Any, share_type: Any) -> Any:
    scale = (priced.credited.type().scale or 0) + (share_type.scale or 0)
    return ibis.expr.datatypes.Decimal(38, min(scale, 37))


def _credits_for(shares: Any, priced: Any, deal_columns: list[str], ops: Exact, keep_via: bool = False) -> Any:
    """Credit rows for (deal, participant, share) rows: the deal's columns and credited x share."""
    joined = shares.join(priced, "deal_id")
    return joined.select(
        *deal_columns, "participant_id", "share", _owner=joined.owner_id,
        via=joined.via if keep_via else ibis.null("string"),
        amount=_times(joined.credited, joined.share, ops).cast(_credit_type(priced, joined.share.type())),
        deal_amount=joined.amount)


def _times(left: Any, right: Any, ops: Exact) -> Any:
    """An exact product in the operands' own scale (widened to 38 digits so it cannot overflow)."""
    kind = left.type()
    wide = left.cast(ibis.expr.datatypes.Decimal(38, kind.scale or 0)) if kind.precision != 38 else left
    a, b = ops._comparable(wide, right)
    # Ibis types a product by its wider operand; the database's type has the summed scale.
    scale = (a.type().scale or 0) + (b.type().scale or 0)
    return (a * b).cast(ibis.expr.datatypes.Decimal(38, min(scale, 37)))


def _rollups(direct: Any, good: Any, chain: Any, ops: Exact) -> Any:
    # A manager is credited once per deal with the shares of everyone below them (at most the
    # whole deal), and not at all if they already hold direct credit on it.
    dated = direct.join(good.select("deal_id", "credit_date"), "deal_id")
    above = dated.join(chain, [dated.participant_id == chain.participant_id, dated.credit_date >= chain.valid_from,
                               dated.credit_date < chain.valid_to])
    above = above.select("deal_id", "share", "seq", below=above.participant_id, participant_id=above.manager_id)
    above = _anti(above, direct, ["deal_id", "participant_id"], ops)
    order = (above.seq.cast("string") + "|" + above.below)
    grouped = above.mutate(_order=order).group_by(["deal_id", "participant_id"]).aggregate(
        total=lambda t: t.share.sum().cast(direct.share.type()),
        via=lambda t: ordered_concat(t._order, ",", ops),
    )
    one = ops.lit(ONE).cast(direct.share.type())
    return grouped.select("deal_id", "participant_id", share=(grouped.total > one).ifelse(one, grouped.total),
                          via=grouped.via)


def credit_problems(credited: Credited, plan: Plan, con: Any) -> list[Problem]:
    """The problems crediting met, in the reference's order (deal id) and wording."""
    basis = plan.crediting.date_basis.value
    found: list[tuple[str, Problem]] = []
    for deal_id in con.to_pyarrow(credited.missing_date).column(0).to_pylist():
        found.append((deal_id, Problem(code="credit_date_missing", subject=f"deal {deal_id}",
                                       message=f"won deal has no {basis} date, the plan's credit date basis")))
    for row in con.to_pyarrow(credited.missing_rate).to_pylist():
        found.append((row["deal_id"], Problem(
            code="fx_rate_missing", subject=f"deal {row['deal_id']}",
            message=f"no {row['currency']}->{plan.currency} rate on or before {row['credit_date']}")))
    for row in con.to_pyarrow(credited.bad_splits).to_pylist():
        total = row["total"].normalize()
        found.append((row["deal_id"], Problem(code="split_sum", subject=f"deal {row['deal_id']}",
                                              message=f"splits sum to {total * 100:f}%, not 100%", value=str(total))))
    return [p for _, p in sorted(found, key=lambda item: item[0])]
