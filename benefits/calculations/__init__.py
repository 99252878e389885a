"""Benefit rules as named calculations; every module here is registered on discovery."""
