"""The JSON API under /api/v1: bearer tokens only (tracker.web.access authenticates them),
views declared once through the OpenAPI registry (spec.py), errors as JSON (answers.py)."""
