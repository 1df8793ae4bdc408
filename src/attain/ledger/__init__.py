"""The payout ledger: append-only entries, the period cycle, draws, payments and statements (pure)."""
