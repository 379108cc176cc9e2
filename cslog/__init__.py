"""cslog: customer-service records as YAML files in git."""

__version__ = "0.1.0"
