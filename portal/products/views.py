"""Views of this area (see the area README in docs/architecture.md)."""
