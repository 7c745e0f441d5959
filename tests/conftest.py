"""Cross-package tests: every omnitron package installed together."""
