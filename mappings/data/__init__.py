"""Catalog data files (package so setuptools ships analytes.json as package data)."""
