"""Shared core of the provincial IOC dashboard: config, database, load path, KPI engine, scheduler, CLI.

This package imports neither Dash nor any connector; connectors are found through the
`ioc.connectors` entry point group and the web app through its import path.
"""
