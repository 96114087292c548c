"""canarykit.promotion layer."""
