"""Load a plan file: YAML with line numbers -> schema validation -> core Plan, every problem at once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from attain.core import expressions
from attain.core.errors import PlanError
from attain.core.money import RoundingMode, RoundingPoint, RoundingPolicy
from attain.core.periods import PeriodKind
from attain.core.plan import (
    Accelerator,
    Aggregate,
    Assignment,
    Band,
    Basis,
    BoundaryOwner,
    ComponentBase,
    CreditingRules,
    DrawTerms,
    Example,
    ExampleDeal,
    FlatRate,
    Gate,
    Limit,
    MarginalTiers,
    MetricDef,
    Milestone,
    PaymentTiming,
    Plan,
    Pool,
    PoolBucket,
    Rate,
    RateAbove,
    Reduction,
    RetroactiveTiers,
    Spiff,
    SplitMethod,
    Step,
    StepMode,
    Stepped,
    Tier,
)
from attain.core.problems import Problem
from attain.core.records import DateBasis
from attain.formats import plan_schema as s
from attain.formats.records import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, out_of_precision

_COMPONENT: TypeAdapter[Any] = TypeAdapter(s.AnyComponent)


class _DecimalConstructor(RoundTripConstructor):
    """YAML floats become Decimals built from their text, so 0.1 stays exactly 0.1."""


def _construct_decimal(self: RoundTripConstructor, node: Any) -> Decimal:
    text = str(self.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        return Decimal("NaN")


_DecimalConstructor.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in (
    "map", "seq", "str", "int", "float", "bool", "null", "timestamp"))


_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:float", "tag:yaml.org,2002:int"})


def _check_number(node: ScalarNode, name: str, line: int | None) -> None:
    """A number in a plan fits the precision and range of every amount and rate (`1e999999`
    would overflow every calculation)."""
    text = str(node.value).replace("_", "")
    try:
        number = Decimal(text)
    except ArithmeticError:
        return  # not a decimal (.inf, 0x1F): the schema reports it
    reason = out_of_precision(number) if number.is_finite() else None
    if reason is not None:
        raise PlanError(f"{name}: a number is out of range", [Problem(
            code="plan_out_of_range", file=name, line=line, value=text[:40],
            message=f"{reason} (the limit of every amount and rate: "
                    f"{MAX_INTEGER_DIGITS} digits before the point, {MAX_FRACTION_DIGITS} after)")])


MAX_FLOW_DEPTH = 64


def _check_flow_depth(text: str, name: str) -> None:
    """Refuse `[[[[...` nested past MAX_FLOW_DEPTH before the YAML parser sees it: the parser
    takes seconds on a few thousand levels. Brackets inside quotes count too (a plan never
    needs that many)."""
    depth = 0
    for line_number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if char in "[{":
                depth += 1
                if depth > MAX_FLOW_DEPTH:
                    raise PlanError(f"{name}: the plan is nested too deeply", [Problem(
                        code="yaml_syntax", file=name, line=line_number,
                        message=f"more than {MAX_FLOW_DEPTH} levels of [ or {{")])
            elif char in "]}":
                depth = max(0, depth - 1)


def _check_nodes(root: Any, name: str) -> None:
    """Refuse what a plan never needs and a hostile file uses: aliases to mappings or lists
    (a "billion laughs" bomb expands them exponentially), `<<` merge keys, and tags other than
    YAML's plain ones (`!!python/object`...). Walks the composed tree, never an expansion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        line = node.start_mark.line + 1 if node.start_mark else None
        if isinstance(node, MappingNode | SequenceNode):
            if id(node) in seen:
                raise PlanError(f"{name}: aliases are not supported in plans", [Problem(
                    code="yaml_alias", file=name, line=line,
                    message="an alias (*name) to a mapping or list is not allowed; write the "
                            "values out")])
            seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            raise PlanError(f"{name}: unsupported YAML tag", [Problem(
                code="yaml_tag", file=name, line=line,
                message=f"the tag {str(node.tag)[:80]!r} is not allowed in a plan")])
        if isinstance(node, ScalarNode) and node.tag in _NUMBER_TAGS:
            _check_number(node, name, line)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.tag.endswith(":merge"):
                    raise PlanError(f"{name}: merge keys are not supported in plans", [Problem(
                        code="yaml_merge", file=name, line=key.start_mark.line + 1,
                        message="the merge key << is not allowed; write the keys out")])
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _DecimalConstructor
    yaml.allow_duplicate_keys = False
    return yaml


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedPlan:
    """A plan with where each part of it was written, for errors and checks that point at lines."""

    plan: Plan
    path: str
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rsplit(".", 1)[0] if "." in key else ""
        return None


def load_plan(path: Path | str) -> LoadedPlan:
    """Read and validate a plan file; raise PlanError listing every problem with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{path}: no such plan file", [Problem(code="plan_missing", file=str(path),
                                                                message="no such file")]) from None
    except UnicodeDecodeError as exc:
        raise PlanError(f"{path}: not UTF-8 text", [Problem(code="plan_encoding", file=str(path),
                                                             message=str(exc))]) from None
    return parse_plan(text, str(path))


def parse_plan(text: str, name: str = "<plan>") -> LoadedPlan:
    """Validate plan text; `name` is how the file is called in problems."""
    try:
        _check_flow_depth(text, name)
        _check_nodes(_yaml().compose(text), name)
        document = _yaml().load(text)
    except PlanError:
        raise
    except RecursionError:
        raise PlanError(f"{name}: not valid YAML", [Problem(
            code="yaml_syntax", file=name, message="the plan is nested too deeply")]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise PlanError(f"{name}: not valid YAML", [Problem(
            code="yaml_syntax", file=name, line=line, message=f"{exc.problem or exc}".strip())]) from None
    except Exception as exc:  # ruamel raises several unrelated types for duplicate keys and the like
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise PlanError(f"{name}: not valid YAML", [Problem(code="yaml_syntax", file=name, line=line,
                                                             message=str(exc).splitlines()[0])]) from None
    if not isinstance(document, CommentedMap):
        raise PlanError(f"{name}: a plan file is a YAML mapping", [Problem(
            code="plan_not_mapping", file=name, line=1, message="expected keys like plan:, metrics:, components:")])
    lines = dict(_positions(document, ""))
    problems: list[Problem] = []
    try:
        model = s.PlanModel.model_validate(_plain(document))
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, document, name, ()))
        problems.extend(_partial_problems(document, name, lines, problems))
        raise PlanError(f"{name}: the plan does not validate", problems) from None
    builder = _Builder(model, document, name, lines)
    plan = builder.build()
    problems.extend(builder.problems)
    if problems:
        raise PlanError(f"{name}: the plan does not validate", problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedPlan(plan=_with(plan, source=text, content_hash=digest), path=name, lines=lines)


def _partial_problems(document: CommentedMap, name: str, lines: dict[str, int],
                      known: list[Problem]) -> list[Problem]:
    """When the schema fails somewhere, still check what did validate (tiers, metric references),
    so one pass over a plan shows every problem."""
    plain = _plain(document)
    builder = _Builder(None, document, name, lines)
    metrics: list[MetricDef] = []
    raw_metrics = plain.get("metrics")
    for metric_name, spec in (raw_metrics.items() if isinstance(raw_metrics, dict) else ()):
        try:
            metrics.append(builder.metric(metric_name, s.MetricModel.model_validate(spec)))
        except ValidationError:
            metrics.append(MetricDef(name=metric_name, aggregate=Aggregate.SUM))
    components: list[ComponentBase] = []
    raw_components = plain.get("components")
    for index, raw in enumerate(raw_components if isinstance(raw_components, list) else ()):
        model = _lenient_component(raw)
        if model is None:
            continue
        component = builder.component(model, f"components[{index}]")
        if component is not None:
            components.append(component)
    builder.check_references(tuple(metrics), tuple(components))
    seen = {(p.key, p.message) for p in known}
    return [p for p in builder.problems if (p.key, p.message) not in seen]


def _lenient_component(raw: Any) -> Any:
    """A component validated once more without its unknown top-level keys (already reported)."""
    try:
        return _COMPONENT.validate_python(raw)
    except ValidationError as exc:
        extras = {e["loc"][-1] for e in exc.errors() if e["type"] == "extra_forbidden" and len(e["loc"]) == 2}
        if not extras or not isinstance(raw, dict):
            return None
    try:
        return _COMPONENT.validate_python({k: v for k, v in raw.items() if k not in extras})
    except ValidationError:
        return None


def _with(plan: Plan, **changes: Any) -> Plan:
    import dataclasses

    return dataclasses.replace(plan, **changes)


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists (pydantic wants plain types)."""
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _positions(node: Any, prefix: str) -> Iterator[tuple[str, int]]:
    if isinstance(node, CommentedMap):
        for key in node:
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, node.lc.key(key)[0] + 1
            yield from _positions(node[key], path)
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            path = f"{prefix}[{index}]"
            yield path, node.lc.item(index)[0] + 1
            yield from _positions(item, path)


def _locate(document: Any, loc: tuple[Any, ...]) -> tuple[str, int | None]:
    """Follow a pydantic error location through the YAML; skip union tags that are not keys."""
    node = document
    parts: list[str] = []
    line: int | None = 1
    for element in loc:
        if isinstance(node, CommentedMap) and isinstance(element, str) and element in node:
            line = node.lc.key(element)[0] + 1
            parts.append(element)
            node = node[element]
        elif isinstance(node, CommentedSeq) and isinstance(element, int) and 0 <= element < len(node):
            line = node.lc.item(element)[0] + 1
            parts.append(f"[{element}]")
            node = node[element]
        elif isinstance(node, CommentedMap) and isinstance(element, str) and element in _MISSING_OK:
            parts.append(element)
    key = ".".join(parts).replace(".[", "[")
    return key, line


_MISSING_OK: set[str] = set()


def _validation_problems(exc: ValidationError, document: Any, name: str, prefix: tuple[Any, ...]) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = (*prefix, *error["loc"])
        key, line = _locate(document, loc)
        missing = error["type"] == "missing"
        field_name = str(error["loc"][-1]) if error["loc"] else ""
        if missing:
            key = f"{key}.{field_name}" if key else field_name
            message = f"missing key {field_name!r}"
        elif error["type"] == "extra_forbidden":
            message = f"unknown key {field_name!r}"
            key = f"{key}" if key.endswith(field_name) else f"{key}.{field_name}"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown kind; {error['msg'].split('expected tags ', 1)[-1]}".replace("'", "")
            message = "unknown kind; expected one of " + message.split("; ", 1)[-1]
        else:
            message = error["msg"].removeprefix("Value error, ")
        problems.append(Problem(code=f"plan_{error['type']}", file=name, line=line, key=key or None,
                                message=message))
    # one bad union member produces an error per alternative; keep the first per key and message
    seen: set[tuple[str | None, str]] = set()
    unique = []
    for problem in problems:
        marker = (problem.key, problem.message)
        if marker not in seen:
            seen.add(marker)
            unique.append(problem)
    return unique


class _Builder:
    """Turns the validated model into core dataclasses, checking what the schema cannot."""

    def __init__(self, model: s.PlanModel | None, document: CommentedMap, name: str, lines: dict[str, int]) -> None:
        self.model = model
        self.document = document
        self.name = name
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, key: str, code: str, message: str) -> None:
        line = None
        probe = key
        while probe:
            if probe in self.lines:
                line = self.lines[probe]
                break
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
        self.problems.append(Problem(code=code, file=self.name, line=line, key=key, message=message))

    def expr(self, text: str, key: str) -> expressions.Expr | None:
        try:
            return expressions.parse(text)
        except expressions.ExpressionError as exc:
            self.problem(key, "plan_expression", f"{exc} in {text!r}")
            return None

    def build(self) -> Plan:
        m = self.model
        assert m is not None
        metrics = tuple(self.metric(name, spec) for name, spec in m.metrics.items())
        components = tuple(
            c for i, spec in enumerate(m.components) if (c := self.component(spec, f"components[{i}]")) is not None
        )
        self.check_references(metrics, components)
        return Plan(
            id=m.plan, name=m.name, version=str(m.version), currency=m.currency, metrics=metrics,
            components=components,
            crediting=CreditingRules(
                date_basis=DateBasis(m.crediting.date_basis), overlay_roles=tuple(m.crediting.overlay_roles),
                rollup=m.crediting.rollup, pro_rata_delivery=m.crediting.partial_delivery == "pro_rata",
                clawback_days=m.crediting.clawback_days,
            ),
            assignment=Assignment(roles=tuple(m.assign.roles), teams=tuple(m.assign.teams),
                                  participants=tuple(m.assign.participants)),
            rounding=RoundingPolicy(mode=RoundingMode(m.rounding.mode), point=RoundingPoint(m.rounding.point)),
            cap=self.limit(m.cap), floor=self.limit(m.floor),
            payment=PaymentTiming(m.payment.timing),
            draw=DrawTerms(amount=m.draw.amount, months=m.draw.months, recoverable=m.draw.recoverable,
                           recovery_share=m.draw.recovery_share) if m.draw else None,
            effective_from=m.effective.start, effective_to=m.effective.end,
            description=m.description, clauses=tuple(m.clauses.items()),
            examples=tuple(self.example(e, f"examples[{i}]") for i, e in enumerate(m.examples)),
        )

    def metric(self, name: str, spec: s.MetricModel) -> MetricDef:
        key = f"metrics.{name}"
        filt = self.expr(spec.filter, f"{key}.filter") if spec.filter else None
        if spec.sum is not None:
            return MetricDef(name=name, aggregate=Aggregate.SUM, field=spec.sum, filter=filt, label=spec.label)
        if spec.count is not None:
            return MetricDef(name=name, aggregate=Aggregate.COUNT, filter=filt, label=spec.label)
        if spec.average is not None:
            return MetricDef(name=name, aggregate=Aggregate.AVERAGE, observed=spec.average, label=spec.label)
        if spec.latest is not None:
            return MetricDef(name=name, aggregate=Aggregate.LATEST, observed=spec.latest, label=spec.label)
        if spec.total is not None:
            return MetricDef(name=name, aggregate=Aggregate.TOTAL, observed=spec.total, label=spec.label)
        assert spec.ratio is not None
        return MetricDef(name=name, aggregate=Aggregate.RATIO, numerator=spec.ratio[0],
                         denominator=spec.ratio[1], label=spec.label)

    def limit(self, spec: s.LimitModel | None) -> Limit | None:
        if spec is None:
            return None
        return Limit(amount=spec.amount, multiple_of_target=spec.multiple_of_target)

    def rate(self, spec: s.RateSpec | None, multiplier: Decimal | None = None) -> Rate:
        if multiplier is not None:
            return Rate(fixed=None, multiplier=multiplier)
        if spec == "derived":
            return Rate(fixed=None)
        if isinstance(spec, s.RateModel):
            return Rate(fixed=None if spec.derived else spec.rate, multiplier=spec.multiplier)
        assert isinstance(spec, Decimal)
        return Rate(fixed=spec)

    def common(self, spec: s.ComponentModel, key: str) -> dict[str, Any]:
        gates = []
        for i, gate in enumerate(spec.gates):
            text, label = (gate, "") if isinstance(gate, str) else (gate.when, gate.label)
            parsed = self.expr(text, f"{key}.gates[{i}]")
            if parsed is not None:
                gates.append(Gate(condition=parsed, text=text, label=label))
        reductions = []
        for i, red in enumerate(spec.reductions):
            parsed = self.expr(red.when, f"{key}.reductions[{i}].when")
            if parsed is not None:
                share = Decimal(1) if red.eliminate else (red.reduce_by or Decimal(0))
                if not 0 < share <= 1:
                    self.problem(f"{key}.reductions[{i}].reduce_by", "plan_reduction",
                                 "reduce_by must be above 0% and at most 100%")
                reductions.append(Reduction(condition=parsed, text=red.when, reduce_by=share, label=red.label))
        needs_target = [name for name, lim in (("cap", spec.cap), ("floor", spec.floor))
                        if lim and lim.multiple_of_target is not None]
        if needs_target and spec.target_incentive is None:
            self.problem(f"{key}.{needs_target[0]}", "plan_limit_target",
                         "a limit as a multiple of target needs the component's target_incentive")
        return dict(
            id=spec.id, label=spec.label or spec.id.replace("_", " ").capitalize(), metric=spec.metric,
            period=PeriodKind(spec.period), target_incentive=spec.target_incentive, quota=spec.quota,
            quota_metric=spec.quota_metric, gates=tuple(gates), reductions=tuple(reductions),
            cap=self.limit(spec.cap), floor=self.limit(spec.floor), description=spec.description,
        )

    def component(self, spec: Any, key: str) -> ComponentBase | None:
        base = self.common(spec, key)
        if isinstance(spec, s.MilestoneModel):
            self.need_target(spec, spec.pays is not None, key, "pays")
            return Milestone(**base, threshold=spec.threshold, basis=Basis(spec.basis), amount=spec.amount,
                             share_of_target=spec.pays, inclusive=spec.inclusive)
        if isinstance(spec, s.SteppedModel):
            self.check_steps(spec, key)
            self.need_target(spec, any(st.pays is not None for st in spec.steps), key, "steps")
            return Stepped(**base, steps=tuple(Step(at=st.at, share_of_target=st.pays, amount=st.amount)
                                               for st in spec.steps),
                           mode=StepMode(spec.mode), basis=Basis(spec.basis), inclusive=spec.inclusive)
        if isinstance(spec, s.FlatRateModel):
            return FlatRate(**base, rate=self.rate(spec.rate))
        if isinstance(spec, s.RateAboveModel):
            return RateAbove(**base, threshold=spec.threshold, basis=Basis(spec.basis), rate=self.rate(spec.rate))
        if isinstance(spec, s.TieredModel):
            tiers = self.tiers(spec, key)
            self.need_target(spec, any(t.rate.derived for t in tiers), key, "tiers")
            if spec.method == "marginal":
                if spec.decelerating:
                    self.problem(f"{key}.decelerating", "plan_decelerating",
                                 "decelerating applies to retroactive tiers only (marginal pay never falls)")
                return MarginalTiers(**base, tiers=tiers, basis=Basis(spec.basis),
                                     boundary=BoundaryOwner(spec.boundary))
            return RetroactiveTiers(**base, tiers=tiers, basis=Basis(spec.basis),
                                    boundary=BoundaryOwner(spec.boundary), decelerating=spec.decelerating)
        if isinstance(spec, s.AcceleratorModel):
            rate = self.rate(spec.rate)
            self.need_target(spec, rate.derived, key, "rate")
            bands = tuple(Band(threshold=b.above if b.above is not None else b.below or Decimal(0),
                               above=b.above is not None, multiplier=b.multiplier) for b in spec.bands)
            return Accelerator(**base, rate=rate, bands=bands, base_multiplier=spec.base_multiplier)
        if isinstance(spec, s.PoolModel):
            return self.pool(spec, base, key)
        if isinstance(spec, s.SpiffModel):
            qualifies = self.expr(spec.qualifies, f"{key}.qualifies") if spec.qualifies else None
            if spec.window.start and spec.window.end and spec.window.start > spec.window.end:
                self.problem(f"{key}.window", "plan_window", "the SPIFF window ends before it starts")
            return Spiff(**base, window_start=spec.window.start, window_end=spec.window.end, qualifies=qualifies,
                         qualifies_text=spec.qualifies or "", amount_per_deal=spec.amount_per_deal, rate=spec.rate)
        raise TypeError(type(spec).__name__)

    def need_target(self, spec: s.ComponentModel, needed: bool, key: str, what: str) -> None:
        if needed and spec.target_incentive is None:
            self.problem(f"{key}.{what}", "plan_target_missing",
                         "a share of target or a derived rate (TI/quota) needs target_incentive on the component")

    def check_steps(self, spec: s.SteppedModel, key: str) -> None:
        ats = [st.at for st in spec.steps]
        for i in range(1, len(ats)):
            if ats[i] <= ats[i - 1]:
                self.problem(f"{key}.steps[{i}].at", "plan_step_order",
                             f"steps must rise: {ats[i]} does not come after {ats[i - 1]}"
                             + (" (a repeated threshold is unreachable)" if ats[i] == ats[i - 1] else ""))

    def tiers(self, spec: s.TieredModel, key: str) -> tuple[Tier, ...]:
        tiers = tuple(Tier(lower=t.lower, upper=t.upper, rate=self.rate(t.rate, t.multiplier), label=t.label)
                      for t in spec.tiers)
        for i, tier in enumerate(tiers):
            where = f"{key}.tiers[{i}]"
            if tier.upper is not None and tier.upper <= tier.lower:
                self.problem(where, "plan_tier_empty", f"tier from {tier.lower} to {tier.upper} is empty (unreachable)")
            if tier.upper is None and i < len(tiers) - 1:
                self.problem(where, "plan_tier_unbounded", "only the last tier may be open-ended; later tiers are "
                             "unreachable")
            if i > 0:
                previous = tiers[i - 1]
                if previous.upper is not None and tier.lower > previous.upper:
                    self.problem(where, "plan_tier_gap",
                                 f"gap between tiers: previous ends at {previous.upper}, this starts at {tier.lower}")
                elif previous.upper is not None and tier.lower < previous.upper:
                    self.problem(where, "plan_tier_overlap",
                                 f"tiers overlap: previous ends at {previous.upper}, this starts at {tier.lower}")
        return tiers

    def pool(self, spec: s.PoolModel, base: dict[str, Any], key: str) -> Pool | None:
        total = sum((b.share for b in spec.buckets), Decimal(0))
        if total != 1:
            self.problem(f"{key}.buckets", "plan_bucket_sum", f"bucket shares sum to {total * 100:f}%, not 100%")
        for i, bucket in enumerate(spec.buckets):
            if bucket.split == "share" and bucket.metric is None:
                self.problem(f"{key}.buckets[{i}]", "plan_bucket_metric",
                             "split: share needs metric: the observed metric holding each member's share")
        funding_raw = dict(spec.funding)
        kind = funding_raw.get("kind")
        if kind in ("pool", "spiff"):
            self.problem(f"{key}.funding.kind", "plan_funding_kind", f"a pool cannot be funded by a {kind}")
            return None
        funding_raw.setdefault("id", f"{spec.id}_funding")
        funding_raw.setdefault("metric", spec.metric)
        funding_raw.setdefault("period", spec.period)
        if spec.target_incentive is not None:
            funding_raw.setdefault("target_incentive", spec.target_incentive)
        try:
            funding_model = _COMPONENT.validate_python(funding_raw)
        except ValidationError as exc:
            self.problems.extend(_validation_problems(exc, self.document, self.name,
                                                      ("components", int(key[11:-1]), "funding")))
            return None
        funding = self.component(funding_model, f"{key}.funding")
        buckets = tuple(PoolBucket(id=b.id, share=b.share, split=SplitMethod(b.split), weight_metric=b.metric,
                                   label=b.label) for b in spec.buckets)
        return Pool(**base, funding=funding, buckets=buckets, team=spec.team)

    def example(self, spec: s.ExampleModel, key: str) -> Example:
        deals = tuple(
            ExampleDeal(id=d.id or f"example-{i + 1}", amount=d.amount, on=d.on,
                        fields=tuple((k, str(v)) for k, v in (d.model_extra or {}).items()))
            for i, d in enumerate(spec.deals)
        )
        return Example(name=spec.name, period=spec.period, quotas=tuple(spec.quota.items()),
                       values=tuple(spec.values.items()), deals=deals, expect=tuple(spec.expect.items()),
                       line=self.lines.get(key))

    def check_references(self, metrics: tuple[MetricDef, ...], components: tuple[ComponentBase, ...]) -> None:
        names = {m.name for m in metrics}
        for metric in metrics:
            for ref in (metric.numerator, metric.denominator):
                if ref is not None and ref not in names:
                    self.problem(f"metrics.{metric.name}.ratio", "plan_unknown_metric",
                                 f"ratio refers to unknown metric {ref!r}")
        ids: set[str] = set()
        for i, component in enumerate(components):
            key = f"components[{i}]"
            if component.id in ids:
                self.problem(f"{key}.id", "plan_duplicate_component", f"component id {component.id!r} is used twice")
            ids.add(component.id)
            if not isinstance(component, Spiff) and component.metric not in names:
                known = ", ".join(sorted(names))
                self.problem(f"{key}.metric", "plan_unknown_metric",
                             f"unknown metric {component.metric!r} (defined: {known})")
            if isinstance(component, Pool):
                for j, bucket in enumerate(component.buckets):
                    if bucket.weight_metric and bucket.split is SplitMethod.CONTRIBUTION \
                            and bucket.weight_metric not in names:
                        self.problem(f"{key}.buckets[{j}].metric", "plan_unknown_metric",
                                     f"unknown metric {bucket.weight_metric!r}")
        for i, example in enumerate(self.model.examples if self.model else ()):
            for comp_id in example.expect:
                if comp_id not in ids:
                    self.problem(f"examples[{i}].expect.{comp_id}", "plan_unknown_component",
                                 f"example expects unknown component {comp_id!r}")
