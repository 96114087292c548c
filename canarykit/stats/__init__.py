"""canarykit.stats layer."""
