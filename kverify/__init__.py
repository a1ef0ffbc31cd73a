"""kverify: a model checker for the concurrency protocols of the Linux kernel."""

__version__ = "0.1.0"
