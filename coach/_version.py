"""The package version, in a leaf module so anything may import it without cycles."""

__version__ = "0.2.0"
