"""The decision module's version: in every complete result, the wheel's name and the editions.

One place: calculator/pyproject.toml reads it from here (setuptools `attr:`).
0.2 implements decision.md version 2.
"""

__version__ = "0.2.0"
