"""Custodia: an open-source customer data platform.

Collect customer data from every channel, unify it into one profile per person, govern and
protect it, analyse it and act on it. See ``docs/`` and the README for the tour.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
