"""honbun's version (its minor version is part of every saved model's card)."""

__version__ = "0.2.0"
