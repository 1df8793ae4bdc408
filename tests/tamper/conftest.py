"""The tamper tests reach SQLite and PostgreSQL through the store tests' fixtures module."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "storage"))
