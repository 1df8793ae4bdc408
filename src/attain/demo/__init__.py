"""The demo company: shipped plans and a seeded generator of its people, deals and metrics."""
