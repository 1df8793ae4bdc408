"""Renderings for people: pay statements, explanations, charts and plan documents (HTML, PDF, JSON, text)."""
