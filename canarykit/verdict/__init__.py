"""canarykit.verdict layer."""
