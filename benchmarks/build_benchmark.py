"""Measure the book's build: cold (empty cache), cached rebuild, each page's
execution time, and the weight of the built site.

    .venv/bin/python benchmarks/build_benchmark.py          # or: make bench

Bars (2-core machines): cold build under 5 minutes, cached rebuild under 30
seconds, no page over 60 seconds of execution. The cold build deletes
`_build/` first, so the site is rebuilt from scratch.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
JB = Path(sys.executable).parent / "jupyter-book"
BARS = {"cold build": 300.0, "cached rebuild": 30.0, "slowest page": 60.0}


def build() -> float:
    start = time.perf_counter()
    result = subprocess.run([str(JB), "build", "book", "-W", "-n", "--keep-going"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        print(result.stdout[-5000:])
        sys.exit(f"the build failed (exit {result.returncode})")
    return seconds


def page_times() -> dict[str, float]:
    from jupyter_cache import get_cache
    cache = get_cache(str(BUILD / ".jupyter_cache"))
    times = {}
    for record in cache.list_cache_records():
        uri = Path(record.uri)
        name = str(uri.relative_to(ROOT / "book")) if uri.is_relative_to(ROOT / "book") else str(uri)
        times[name] = float(record.data.get("execution_seconds", float("nan")))
    return times


def site_weight():
    html = BUILD / "html"
    files = [p for p in html.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    pages = [p for p in files if p.suffix == ".html"]
    images = [p for p in files if p.suffix in (".png", ".jpg", ".svg")]
    largest_page = max(pages, key=lambda p: p.stat().st_size)
    largest_image = max(images, key=lambda p: p.stat().st_size)
    return total, largest_page, largest_image


def main():
    shutil.rmtree(BUILD, ignore_errors=True)
    cold = build()
    cached = build()
    times = page_times()
    total, page, image = site_weight()

    print("\nPer-page execution time (measured while pages ran in parallel, 2 at a time):")
    for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:6.1f} s  {name}")
    slowest = max(times.values())
    print("\nBuild times:")
    results = {"cold build": cold, "cached rebuild": cached, "slowest page": slowest}
    ok = True
    for name, seconds in results.items():
        passed = seconds < BARS[name]
        ok &= passed
        print(f"  {name:15s} {seconds:7.1f} s   bar < {BARS[name]:.0f} s   "
              f"{'PASS' if passed else 'FAIL'}")
    mib = 1024 * 1024
    print("\nSite weight:")
    print(f"  _build/html total   {total / mib:6.1f} MiB")
    print(f"  largest page        {page.stat().st_size / 1024:6.0f} KiB  {page.relative_to(BUILD)}")
    print(f"  largest image       {image.stat().st_size / 1024:6.0f} KiB  {image.relative_to(BUILD)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
