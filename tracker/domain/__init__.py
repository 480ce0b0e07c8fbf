"""Weatherboard's rules in plain Python: no Flask, no SQLAlchemy.

Services load plain values, ask these functions, and change the database only when they
answer without raising a DomainError.
"""
