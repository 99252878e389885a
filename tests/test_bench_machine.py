"""The benchmarks print, with each timing, the CPU time the host took from this virtual machine meanwhile (issue #13:
on a shared host the same command varied by tens of percent within the hour)."""

from __future__ import annotations

import os

from devtools.management.commands import bench_nightly
from devtools.management.commands.bench_nightly import cpu_stolen, stolen_since

TICK = os.sysconf("SC_CLK_TCK")


def test_the_stolen_time_is_the_eighth_figure_of_the_cpu_line(tmp_path):
    stat = tmp_path / "stat"
    # cpu  user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text(f"cpu  107684 0 19773 95104 2359 0 924 {5 * TICK} 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    assert cpu_stolen(str(stat)) == 5.0


def test_no_figure_where_the_file_or_the_field_is_missing(tmp_path):
    assert cpu_stolen(str(tmp_path / "none")) is None
    short = tmp_path / "short"
    short.write_text("cpu  1 2 3 4 5 6 7\n")
    assert cpu_stolen(str(short)) is None
    other = tmp_path / "other"
    other.write_text("intr 1 2 3 4 5 6 7 8 9 10\n")
    assert cpu_stolen(str(other)) is None


def test_the_line_says_what_the_host_took_since_the_reading(monkeypatch):
    monkeypatch.setattr(bench_nightly, "cpu_stolen", lambda: 12.75)
    assert stolen_since(10.0) == "; the host took 2.8 s of CPU meanwhile"
    assert stolen_since(None) == ""
    monkeypatch.setattr(bench_nightly, "cpu_stolen", lambda: None)
    assert stolen_since(10.0) == ""
