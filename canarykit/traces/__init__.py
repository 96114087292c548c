"""canarykit.traces layer."""
