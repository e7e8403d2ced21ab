"""Renders the guide's content into Markdown pages for mkdocs-material."""
