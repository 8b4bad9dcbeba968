"""The `demo` connector: a synthetic but realistic province, generated deterministically."""

from connectors.demo.connector import DemoConnector, DemoData, DemoOptions, build_demo

__all__ = ["DemoConnector", "DemoData", "DemoOptions", "build_demo"]
