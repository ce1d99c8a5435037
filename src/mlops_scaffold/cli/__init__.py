"""Command-line interface; the library never imports it."""
