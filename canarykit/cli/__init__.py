"""canarykit.cli layer."""
