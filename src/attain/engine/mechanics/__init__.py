"""The mechanics and the one dispatch table from a component's type to how it is paid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attain.core.periods import Period
from attain.core.plan import (
    Accelerator,
    ComponentBase,
    FlatRate,
    MarginalTiers,
    Milestone,
    Pool,
    RateAbove,
    RetroactiveTiers,
    Spiff,
    Stepped,
)
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.lines import figure_line
from attain.engine.mechanics import (
    accelerator,
    flat_rate,
    marginal_tiers,
    milestone,
    pool,
    rate_above,
    retroactive_tiers,
    spiff,
    stepped,
)
from attain.engine.results import Figures, Outcome, PayoutLine
from attain.engine.scope import Scope


@dataclass(frozen=True, slots=True)
class Mechanic:
    """How one kind of component pays, is explained in words, and (if it can) pays on figures."""

    kind: str
    describe: Callable[[Any, str], list[str]]
    pay: Callable[[Any, Figures], Outcome] | None = None
    line: Callable[[Any, Scope, str, Period], PayoutLine] | None = None
    # The same payout over whole columns (engine.columns), for the vectorized executor; None: it
    # cannot compile this mechanic and refuses it before anything runs.
    vectorize: Callable[[Any, ColumnFigures, ColumnOps], Num] | None = None
    active: Callable[[Any, Period], bool] | None = None

    def applies(self, component: ComponentBase, period: Period) -> bool:
        """Whether the component can pay at all in `period` (a SPIFF only inside its window)."""
        return self.active is None or self.active(component, period)

    def evaluate(self, component: ComponentBase, scope: Scope, participant_id: str, period: Period) -> PayoutLine:
        if self.line is not None:
            return self.line(component, scope, participant_id, period)
        assert self.pay is not None
        return figure_line(self.kind, self.pay, component, scope, participant_id, period)


def pay_figures(component: ComponentBase, figures: Figures) -> Outcome:
    """Pay any figure mechanic (used for pool funding and plan checks)."""
    mechanic = mechanic_for(component)
    if mechanic.pay is None:
        raise ValueError(f"{mechanic.kind} does not pay on figures")
    return mechanic.pay(component, figures)


MECHANICS: dict[type[ComponentBase], Mechanic] = {
    Milestone: Mechanic("milestone", milestone.describe, milestone.pay, vectorize=milestone.vectorize),
    Stepped: Mechanic("stepped", stepped.describe, stepped.pay, vectorize=stepped.vectorize),
    FlatRate: Mechanic("flat_rate", flat_rate.describe, flat_rate.pay, vectorize=flat_rate.vectorize),
    RateAbove: Mechanic("rate_above", rate_above.describe, rate_above.pay, vectorize=rate_above.vectorize),
    MarginalTiers: Mechanic("marginal_tiers", marginal_tiers.describe, marginal_tiers.pay,
                        vectorize=marginal_tiers.vectorize),
    RetroactiveTiers: Mechanic("retroactive_tiers", retroactive_tiers.describe, retroactive_tiers.pay,
                        vectorize=retroactive_tiers.vectorize),
    Accelerator: Mechanic("accelerator", accelerator.describe, accelerator.pay, vectorize=accelerator.vectorize),
    Spiff: Mechanic("spiff", spiff.describe, line=spiff.evaluate, active=spiff.overlaps_window),
    Pool: Mechanic("pool", pool.describe,
                   line=lambda c, s, p, per: pool.evaluate(c, s, p, per, pay_figures)),
}


def mechanic_for(component: ComponentBase) -> Mechanic:
    try:
        return MECHANICS[type(component)]
    except KeyError:
        raise TypeError(f"no mechanic for {type(component).__name__}") from None
