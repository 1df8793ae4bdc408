"""Everything one calculation reads, gathered: the records of a data folder or a store snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from attain.core.records import (
    CurrencyRate,
    Deal,
    MetricObservation,
    OrgTerm,
    Participant,
    Quota,
    Split,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSet:
    """The inputs of a calculation; org terms default to one term per participant."""

    participants: tuple[Participant, ...] = ()
    org_terms: tuple[OrgTerm, ...] = ()
    deals: tuple[Deal, ...] = ()
    splits: tuple[Split, ...] = ()
    quotas: tuple[Quota, ...] = ()
    observations: tuple[MetricObservation, ...] = ()
    rates: tuple[CurrencyRate, ...] = ()

    def participant(self, participant_id: str) -> Participant | None:
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        return None

    def terms(self) -> tuple[OrgTerm, ...]:
        """Org terms as recorded, or one open-ended term per participant from its own row."""
        if self.org_terms:
            return self.org_terms
        return tuple(
            OrgTerm(
                participant_id=p.id,
                role=p.role,
                team=p.team,
                manager_id=p.manager_id,
            )
            for p in self.participants
        )
