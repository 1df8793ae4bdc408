"""The engine: credits + quotas + metrics + a plan version -> payout lines with their reasons."""
