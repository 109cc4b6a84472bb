"""The pure parts of benchmarks/bench.py: heap options, ratios, the Markdown table and the README block.

No timing is asserted here (figures live in benchmarks/); nothing here needs matplotlib or the reference.
The script is loaded from its path: benchmarks/ is not a package.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from benchmark_scripts import load_script


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script("bench.py")


def two_heap_row() -> dict[tuple[str, str], dict[str, float | str]]:
    return {
        ("reference", "fresh"): {"us": 100.0},
        ("reference", "steady"): {"us": 32.0},
        ("pure", "fresh"): {"us": 40.0},
        ("pure", "steady"): {"us": 25.6},
        ("c", "fresh"): {"us": 4.0},
        ("c", "steady"): {"us": 4.0},
    }


def cells_by_title(bench: ModuleType, row: dict, heaps: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(bench.table_header(heaps), bench.table_cells(row, heaps)))


def test_heaps_parse_in_order_once_each(bench: ModuleType) -> None:
    assert bench.parse_heaps("fresh,steady") == ("fresh", "steady")
    assert bench.parse_heaps("steady, fresh,steady") == ("steady", "fresh")
    with pytest.raises(ValueError, match="unknown heap 'stable'"):
        bench.parse_heaps("fresh,stable")


def test_steady_heap_switch_still_means_the_steady_heap(bench: ModuleType) -> None:
    assert bench.parse_args(["--steady-heap"]).heaps == ("steady",)
    assert bench.parse_args([]).heaps == ("fresh",)
    assert bench.parse_args(["--heaps", "fresh,steady"]).heaps == ("fresh", "steady")
    quick = bench.parse_args(["--quick", "--cases", "chat_user,parse_verify"])
    assert (quick.rounds, quick.repeats, quick.builds, quick.cases) == (1, 5, 100_000, ["chat_user", "parse_verify"])


@pytest.mark.parametrize(
    "argv",
    [["--steady-heap", "--heaps", "fresh"], ["--cases", "chat_user,nope"], ["--scaling-rounds", "-1"]],
)
def test_contradicting_or_unknown_options_are_refused(bench: ModuleType, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        bench.parse_args(argv)
    assert stopped.value.code == 2


def test_workers_get_the_heap_and_kernel_they_are_asked_for(bench: ModuleType) -> None:
    base = {"PATH": "/bin", "MALLOC_TRIM_THRESHOLD_": "5", "ACCESSTOKEN2_NO_EXTENSIONS": "1"}
    fresh_c = bench.worker_env("c", "fresh", base)
    assert "MALLOC_TRIM_THRESHOLD_" not in fresh_c and "ACCESSTOKEN2_NO_EXTENSIONS" not in fresh_c
    steady_pure = bench.worker_env("pure", "steady", base)
    assert steady_pure["MALLOC_TRIM_THRESHOLD_"] == str(2**30)
    assert steady_pure["ACCESSTOKEN2_NO_EXTENSIONS"] == "1"
    assert steady_pure["PATH"] == "/bin" and base["MALLOC_TRIM_THRESHOLD_"] == "5"


def test_ratio_is_reference_over_ours_and_none_when_skipped(bench: ModuleType) -> None:
    assert bench.ratio({"us": 100.0}, {"us": 4.0}) == pytest.approx(25.0)
    assert bench.ratio({"skip": "no RTM2 builder"}, {"us": 4.0}) is None
    assert bench.ratio({"us": 100.0}, {"skip": "failed"}) is None


def test_two_heap_table_puts_every_implementation_side_by_side(bench: ModuleType) -> None:
    heaps = ("fresh", "steady")
    cells = cells_by_title(bench, two_heap_row(), heaps)
    assert list(cells) == [
        "reference fresh",
        "reference steady",
        "pure fresh",
        "pure steady",
        "C fresh",
        "C steady",
        "ref/pure fresh",
        "ref/C fresh",
        "ref/pure steady",
        "ref/C steady",
    ]
    # each ratio divides the reference by ours within one heap, never across heaps
    assert cells["reference steady"] == "32.00" and cells["pure steady"] == "25.60"
    assert (cells["ref/pure fresh"], cells["ref/C fresh"]) == ("2.5x", "25.0x")
    assert (cells["ref/pure steady"], cells["ref/C steady"]) == ("1.2x", "8.0x")


def test_one_heap_table_reads_as_before(bench: ModuleType) -> None:
    row = {column: value for column, value in two_heap_row().items() if column[1] == "steady"}
    row["reference", "steady"] = {"skip": "agoraiotools has no RTM2 (service 8) builder"}
    cells = cells_by_title(bench, row, ("steady",))
    assert cells == {
        "reference": "n/a",
        "pure": "25.60",
        "C": "4.00",
        "ref/pure": "n/a",
        "ref/C": "n/a",
    }


def test_markdown_table_is_aligned_with_one_row_per_case(bench: ModuleType) -> None:
    heaps = ("fresh", "steady")
    results = {"chat_user": two_heap_row(), "parse_verify": two_heap_row()}
    lines = bench.table_lines(results, heaps)
    assert len(lines) == 4
    assert lines[2].startswith("| Chat user token ") and lines[3].startswith("| 007 parse + verify ")
    assert set(lines[1]) == {"|", "-"}
    # Markdown needs the same number of cells in every line; aligned columns keep the source readable
    assert {line.count("|") for line in lines} == {len(bench.table_header(heaps)) + 2}
    assert len({len(line) for line in lines}) == 1


def facts() -> dict[str, object]:
    return {
        "started": "2026-12-01 03:00",
        "finished": "03:05",
        "command": "python benchmarks/bench.py --heaps fresh,steady",
        "python": "3.11.7",
        "cpus": 2,
        "cpu": "Some CPU",
        "load": [1.0, 1.5],
        "agoraiotools": "0.3.4",
        "accesstoken2": "0.1.0",
        "commit": "abc1234",
        "kernel": "c",
        "rounds": 5,
        "repeats": 9,
    }


def test_markdown_block_says_where_its_figures_come_from(bench: ModuleType) -> None:
    block = bench.markdown_block(
        {"chat_user": two_heap_row()}, ("fresh", "steady"), facts(), "benchmarks/p.png", ["memory (C): +20 KiB"]
    )
    lines = block.splitlines()
    assert lines[0] == bench.MARK_BEGIN and lines[-1] == bench.MARK_END
    assert "`python benchmarks/bench.py --heaps fresh,steady`" in lines[1]
    assert "Python 3.11.7" in lines[1] and "2 CPUs" in lines[1] and "commit abc1234" in lines[1]
    assert "5 fresh processes x 9 runs" in lines[1]
    assert any(line.startswith("| Chat user token ") and "25.0x" in line for line in lines)
    steady = "* steady: a heap that is never trimmed (MALLOC_TRIM_THRESHOLD_=2**30), as in a long-running process."
    assert steady in lines
    assert "* memory (C): +20 KiB." in lines
    assert "C core." in lines[1]
    assert lines[-2] == "![µs per token, every implementation side by side](benchmarks/p.png)"


def test_readme_block_is_replaced_and_nothing_else(bench: ModuleType) -> None:
    old = f"# Title\n\n## Performance\n\nprose\n\n{bench.MARK_BEGIN}\nold table\n{bench.MARK_END}\n\n## Next\n"
    new_block = f"{bench.MARK_BEGIN}\nnew table\n{bench.MARK_END}\n"
    assert bench.replace_block(old, new_block) == (
        f"# Title\n\n## Performance\n\nprose\n\n{bench.MARK_BEGIN}\nnew table\n{bench.MARK_END}\n\n## Next\n"
    )
    with pytest.raises(ValueError, match=r"no '<!-- generated by benchmarks/bench\.py"):
        bench.replace_block("# Title without a generated block\n", new_block)


def test_rounds_combine_to_their_median_and_a_skip_wins(bench: ModuleType) -> None:
    assert bench.combine([{"us": 5.0}, {"us": 1.0}, {"us": 3.0}]) == {"us": 3.0}
    assert bench.combine([{"us": 5.0}, {"skip": "failed: boom"}]) == {"skip": "failed: boom"}


def test_plot_without_matplotlib_stops_with_one_line_saying_what_to_install(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name == "matplotlib" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(SystemExit) as stopped:
        bench.require_matplotlib()
    message = str(stopped.value.code)
    assert "\n" not in message
    assert "matplotlib" in message and "benchmarks/requirements.txt" in message


def test_quartiles_are_lower_middle_upper_and_one_value_is_all_three(bench: ModuleType) -> None:
    assert bench.quartiles([5.0, 1.0, 4.0, 2.0, 3.0]) == (2.0, 3.0, 4.0)
    assert bench.quartiles([1.5]) == (1.5, 1.5, 1.5)


def test_scaling_note_gives_both_ratios_with_their_spread_and_the_round_count(bench: ModuleType) -> None:
    note = bench.scaling_note({"paired": [1.7, 1.9, 1.8], "machine": [1.3, 2.0, 1.5]})
    assert "over 3 rounds" in note
    assert "median 1.80x (quartiles 1.75-1.85)" in note
    assert "1.50x the work of one (quartiles 1.40-1.75)" in note


def test_scaling_rounds_default_is_capped_by_quick_and_zero_turns_it_off(bench: ModuleType) -> None:
    assert bench.parse_args([]).scaling_rounds == 40
    assert bench.parse_args(["--quick"]).scaling_rounds == 10
    assert bench.parse_args(["--scaling-rounds", "0"]).scaling_rounds == 0
