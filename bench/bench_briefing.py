"""Monthly PDF briefing build time, at demo scale (300,000 dossiers; goal ≤ 10 s) and on the shared
10M database (goal ≤ 20 s).

    python bench/bench_briefing.py [--scales 300000,10000000] [--runs 3] [--period 2026-10]

Uses the shared benchmark databases of bench/dataset.py (never dropped; nothing is written there:
`build_briefing` only writes the PDF file). For each scale it prints, with the load average beside
every figure, the median of --runs builds with a new read-model cache each time (what the first
reader pays after a load), split into numbers (read model; Chromium starts meanwhile), charts
(kaleido, one warm Chromium per build) and layout (WeasyPrint); and, as the baseline measured in
the same run, the same charts exported without a warm server (one Chromium start per figure,
kaleido's default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_queries import ensure_a_run  # noqa: E402
from bench.dataset import ensure  # noqa: E402
from dashboard.briefings import build_briefing  # noqa: E402
from dashboard.briefings.build import figures_of  # noqa: E402
from dashboard.briefings.content import collect  # noqa: E402
from ioc.config import load_settings  # noqa: E402
from ioc.database import make_engine  # noqa: E402
from ioc.kpi import load_library  # noqa: E402
from ioc.queries import ReadModel, VersionedCache  # noqa: E402


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def one_build(model: ReadModel, period: str, out: Path) -> dict[str, float]:
    """Seconds per phase of one build (phases from the build's own progress messages)."""
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    build_briefing(model, period, out=out, progress=lambda m: marks.append((m, time.perf_counter())))
    ended = time.perf_counter()
    times = [t for _, t in marks] + [ended]
    names = ("numbers", "charts", "layout")
    phases = {name: times[i + 1] - times[i] for i, name in enumerate(names)}
    phases["total"] = ended - started
    return phases


def cold_charts(model: ReadModel, period: str) -> float:
    """Baseline: the same figures, each exported by kaleido without a warm server."""
    import kaleido

    figures = figures_of(collect(model, period))
    started = time.perf_counter()
    for figure in figures.values():
        kaleido.calc_fig_sync(figure, opts={"format": "svg", "width": 720, "height": 300})
    return time.perf_counter() - started


def bench_scale(rows: int, runs: int, period: str, goal: float) -> None:
    name = "ioc_bench_10m" if rows == 10_000_000 else f"ioc_bench_{rows}"
    url = ensure(name, dossiers=rows, incidents=max(rows // 50, 1000))
    engine = make_engine(url)
    ensure_a_run(engine)
    settings = load_settings(REPO_ROOT / "config.yaml")
    library = load_library(REPO_ROOT / settings.kpi_dir)
    out = Path(tempfile.mkdtemp(prefix="ioc-bench-briefing-")) / f"{name}.pdf"
    print(f"\n== {rows:,} dossiers ({name}), monthly briefing {period}")
    samples = []
    for run in range(runs):
        model = ReadModel(engine, library, settings, cache=VersionedCache())
        phases = one_build(model, period, out)
        samples.append(phases)
        print(
            f"build {run + 1}: {phases['total']:6.2f} s (numbers {phases['numbers']:5.2f}, charts "
            f"{phases['charts']:5.2f}, layout {phases['layout']:5.2f})  {load()}"
        )
    median = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    verdict = "within" if median["total"] <= goal else "OVER"
    print(f"median build: {median['total']:6.2f} s — {verdict} the {goal:.0f} s goal  {load()}")
    baseline = cold_charts(ReadModel(engine, library, settings), period)
    print(
        f"charts: warm server {median['charts']:5.2f} s vs one Chromium per figure {baseline:5.2f} s "
        f"(baseline) → {baseline / median['charts']:4.1f}× faster  {load()}"
    )
    print(f"PDF: {out} ({out.stat().st_size / 1024:.0f} KiB)")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="300000,10000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", default="2026-10")
    args = parser.parse_args()
    for rows in (int(value) for value in args.scales.split(",")):
        bench_scale(rows, args.runs, args.period, goal=20.0 if rows >= 10_000_000 else 10.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
