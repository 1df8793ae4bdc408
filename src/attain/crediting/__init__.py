"""Crediting: from deals to credits (date basis, splits, overlays, roll-ups, delivery, currency)."""

from attain.crediting.credit import CreditResult, credit_deals
from attain.crediting.fx import RateTable
from attain.crediting.org import Org

__all__ = ["CreditResult", "Org", "RateTable", "credit_deals"]
