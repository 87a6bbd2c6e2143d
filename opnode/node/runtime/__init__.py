"""The running node: data sources that feed the sans-IO pipeline from async clients, and the driver loop."""
