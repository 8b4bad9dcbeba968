"""What the demo-province benchmarks share: their command line and a config with the demo source."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ioc.config import Settings, load_settings


def demo_arguments(description: str | None, default_scale: float) -> argparse.Namespace:
    """`--scale` of the demo province and `--admin-url` of the server for scratch databases."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=default_scale)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args()


def demo_settings(scale: float) -> Settings:
    """Settings of province 66 with the `demo` source at `scale`, from a temporary config.yaml."""
    config = Path(tempfile.mkdtemp(prefix="ioc-bench-")) / "config.yaml"
    config.write_text(
        f"province: {{code: '66'}}\ndemo: {{scale: {scale}}}\nsources:\n  demo: {{connector: demo}}\n",
        encoding="utf-8",
    )
    return load_settings(config)
