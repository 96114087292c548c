"""canarykit.report layer."""
