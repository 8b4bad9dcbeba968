"""Reusable, pure layout builders (data in → Dash components out)."""
