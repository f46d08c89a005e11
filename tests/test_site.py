"""The leaderboard site (`nasbench-suite report`): the committed page is what the committed results give, byte for
byte; it loads nothing over the network; in headless Chromium its tables have every row and sort on a click; and
`nasbench-suite compare` on two committed leaderboards."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from conftest import REPO
from nasbench_suite import jsonio
from nasbench_suite.cli.app import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers every command)
from nasbench_suite.errors import UserInputError
from nasbench_suite.report.compare import compare
from nasbench_suite.report.site import SITE_FILE, leaderboard_folders, render_site

RESULTS = REPO / "results"
SITE = RESULTS / "site" / SITE_FILE
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,2000")


def test_committed_site_is_what_the_committed_results_give():
    # catches a date, an absolute path or an unsorted walk in the page, and a site not regenerated after the results
    assert render_site(RESULTS, RESULTS / "site").encode() == SITE.read_bytes()


def test_site_is_self_contained_and_shows_every_leaderboard():
    html = SITE.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched, not even a CDN font
    assert "<script src" not in html and "<link" not in html
    folders = leaderboard_folders(RESULTS)
    assert {RESULTS, RESULTS / "nb201-paper"} <= set(folders) and len(folders) >= 10
    assert html.count('<table class="board">') == len(folders)
    assert "nasbench-suite benchmark --preset nb201-paper" in html and "--out results/nb201-paper" in html
    assert 'href="../nb201-paper/leaderboard.csv"' in html  # relative links to the files
    assert html.count("<svg") >= 5 * 2  # the figures inline: five of each single-objective leaderboard at least
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # several inline SVGs on one page: no id may repeat


def test_site_input_errors(tmp_path):
    with pytest.raises(UserInputError, match="no leaderboard.json under"):
        render_site(tmp_path)
    with pytest.raises(UserInputError, match="--highlight nope: no leaderboard has such a strategy"):
        render_site(RESULTS, highlight=["nope"])
    for text in ('{"leaderboard": []}', "[]"):  # e.g. another command's summary named leaderboard.json: was KeyError
        (tmp_path / "other").mkdir(exist_ok=True)
        (tmp_path / "other" / "leaderboard.json").write_text(text)
        with pytest.raises(UserInputError, match=r"other/leaderboard.json has no \"header\" object; expected"):
            render_site(tmp_path)


@pytest.fixture
def browser(tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver), as .ci/run does")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)
    yield session
    session.quit()


def _column(browser, table, index: int) -> list[str]:
    return [row.find_elements("tag name", "td")[index].get_attribute("data-sort")
            for row in table.find_elements("css selector", "tbody tr")]


@pytest.mark.slow
def test_site_in_headless_chromium(browser, tmp_path):
    browser.get(SITE.as_uri())
    tables = browser.find_elements("css selector", "table.board")
    folders = leaderboard_folders(RESULTS)
    assert len(tables) == len(folders)
    for table, folder in zip(tables, folders):  # every row of every leaderboard rendered, in its order
        rows = jsonio.loads((folder / "leaderboard.json").read_text())["leaderboard"]
        assert _column(browser, table, 1) == [row["strategy"] for row in rows], folder
    main = tables[0]
    headers = [th.text for th in main.find_elements("tag name", "th")]
    column = headers.index("final_mean")
    before = _column(browser, main, column)
    main.find_elements("tag name", "th")[column].click()
    ascending = _column(browser, main, column)
    assert ascending != before and ascending == sorted(before, key=float)
    main.find_elements("tag name", "th")[column].click()
    assert _column(browser, main, column) == sorted(before, key=float, reverse=True)
    main.find_elements("tag name", "th")[1].click()  # text column
    assert _column(browser, main, 1) == sorted(_column(browser, main, 1))
    shot = tmp_path / "site.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000


@pytest.mark.slow
def test_highlight_greys_the_other_strategies_in_the_inline_plots(browser, tmp_path):
    page = tmp_path / SITE_FILE
    page.write_text(render_site(RESULTS, tmp_path, highlight=["rea", "bananas"]))
    browser.get(page.as_uri())
    opacity = browser.execute_script(
        "var o = {}; document.querySelectorAll('#lb-top svg [data-strategy]').forEach(function (e) {"
        "o[e.dataset.strategy] = getComputedStyle(e).opacity; }); return o;")
    assert opacity["rea"] == opacity["bananas"] == "1" and opacity["random"] == "0.3"
    marked = browser.find_elements("css selector", "#lb-top tr.hl")
    assert sorted(row.find_elements("tag name", "td")[1].text for row in marked) == ["bananas", "rea"]


def test_compare_two_committed_leaderboards():
    a, b = RESULTS, RESULTS / "nb201-paper"
    result = compare(a, b)
    board_a = jsonio.loads((a / "leaderboard.json").read_text())["leaderboard"]
    board_b = {r["strategy"]: r for r in jsonio.loads((b / "leaderboard.json").read_text())["leaderboard"]}
    assert len(result.table) == 14 and not result.only_a and not result.only_b
    assert "bohb ~ bohb:schedule=hpbandster" in result.table.index  # same base strategy, paper's settings in B
    assert list(result.table["rank_a"]) == sorted(r["mean_rank"] for r in board_a)
    for row in board_a:  # Welch's interval excludes 0 exactly when Welch's t-test rejects at 5%
        other = board_b.get(row["strategy"]) or board_b["bohb:schedule=hpbandster"]
        test = stats.ttest_ind_from_stats(other["final_mean"], other["final_std"], other["runs"], row["final_mean"],
                                          row["final_std"], row["runs"], equal_var=False)
        line = result.table.loc[next(i for i in result.table.index if i.split(" ~ ")[0] == row["strategy"])]
        assert line["diff"] == pytest.approx(other["final_mean"] - row["final_mean"])
        assert (line["ci_low"] > 0 or line["ci_high"] < 0) == (test.pvalue < 0.05), row["strategy"]
    same = compare(a, a)
    assert same.tau_rank == pytest.approx(1) and np.allclose(same.table["diff"], 0)
    assert -1 <= result.tau_rank < 1


def test_compare_command_writes_markdown_and_csv(tmp_path):
    for name in ("c.md", "c.csv"):
        done = CliRunner().invoke(cli, ["compare", str(RESULTS), str(RESULTS / "nb201-paper"), "--out",
                                        str(tmp_path / name)])
        assert done.exit_code == 0, done.output
        assert "Kendall tau over 14 shared strategies" in done.output
    assert (tmp_path / "c.md").read_text().count("\n| ") == 15 and "ci_low" in (tmp_path / "c.csv").read_text()
    wrong = CliRunner().invoke(cli, ["compare", str(RESULTS), str(tmp_path), "--out", str(tmp_path / "c.txt")])
    assert wrong.exit_code == 2 and "expected a file name ending in .md or .csv" in wrong.output


def test_terminal_comparison_is_exact():
    import pandas as pd

    from nasbench_suite.report.compare import Comparison, format_comparison

    table = pd.DataFrame({"mean_a": [93.5, 92.0], "mean_b": [94.25, 91.0], "diff": [0.75, -1.0],
                          "ci_low": [0.5, -1.5], "ci_high": [1.0, -0.5], "rank_a": [1.0, 2.0], "rank_b": [1.5, 1.5]},
                         index=["rea", "a-strategy-name-longer-than-28-chars"])
    c = Comparison("runs/a", "runs/b", 0.9, table, 0.5, 0.25, -0.125, 0.5, ["bo"], [])
    assert format_comparison(c).splitlines() == [
        "A: runs/a", "B: runs/b", "Kendall tau over 2 shared strategies: 0.50 (p = 0.25) between mean ranks,",
        "-0.12 (p = 0.5) between mean final scores",
        "B - A = difference of the mean final score, 90% Welch interval; rows by A's mean rank",
        "strategy                      mean A  mean B   B - A          interval rank A rank B",
        "rea                            93.50   94.25   +0.75    [+0.50, +1.00]   1.00   1.50",
        "a-strategy-name-longer-than-   92.00   91.00   -1.00    [-1.50, -0.50]   2.00   1.50",
        "only in A: bo"]


def test_table_cells_show_and_sort_every_kind_of_value():
    from nasbench_suite.report.site import Cell, _cell

    assert [_cell(v) for v in ("rea", None, float("nan"), float("inf"), 12345, np.int64(7))] == [
        Cell("rea", "rea"), Cell("-", ""), Cell("-", ""), Cell("never", "Infinity"), Cell("12,345", "12345"),
        Cell("7", "7")]
    assert [_cell(v).text for v in (0.12345, 93.456, -2.5, 200000.0)] == ["0.123", "93.46", "-2.50", "200,000"]
    assert _cell(93.456).sort == "93.456"


def test_build_site_writes_into_the_results_folder_unless_told_otherwise(tmp_path):
    from nasbench_suite.report.site import build_site

    results = tmp_path / "results"
    shutil.copytree(RESULTS / "nb201-paper", results)
    assert build_site(results) == results / "site" / SITE_FILE
    assert build_site(results, tmp_path / "elsewhere") == tmp_path / "elsewhere" / SITE_FILE
    for page in (results / "site" / SITE_FILE, tmp_path / "elsewhere" / SITE_FILE):
        assert page.read_text().count('<table class="board">') == 1


# ---- written for the survivors of the report/compare.py mutation run (eighth session) ----------------------------

def _write_board(path, samples: dict, ranks: dict, score: str = "final") -> None:
    """A leaderboard.json as the benchmark writes it, from each strategy's final scores."""
    rows = [{"strategy": name, f"{score}_mean": float(np.mean(x)), f"{score}_std": float(np.std(x, ddof=1)),
             "runs": len(x), "mean_rank": ranks[name]} for name, x in samples.items()]
    path.write_text(jsonio.dumps({"leaderboard": rows}))


def test_compare_gives_scipys_welch_interval_and_pairs_one_to_one_by_base_name(tmp_path):
    rng = np.random.default_rng(3)
    a = {"rea": rng.normal(93, 0.4, 10), "bohb": rng.normal(92, 0.6, 6), "random": rng.normal(91, 0.5, 25),
         "ls:start=1": rng.normal(90, 1, 5)}
    b = {"rea": rng.normal(93.5, 0.9, 4), "random": rng.normal(91, 0.2, 30), "bohb:schedule=hpbandster":
         rng.normal(92.5, 0.3, 8), "ls:start=2": rng.normal(90, 1, 5), "ls:start=3": rng.normal(90, 1, 5)}
    _write_board(tmp_path / "a.json", a, {"rea": 1.5, "bohb": 1.5, "random": 3.0, "ls:start=1": 4.0})
    (tmp_path / "b").mkdir()
    _write_board(tmp_path / "b" / "leaderboard.json", b, {"rea": 2.0, "random": 1.0, "bohb:schedule=hpbandster": 3.0,
                                                         "ls:start=2": 4.0, "ls:start=3": 5.0}, score="score")
    c = compare(tmp_path / "a.json", tmp_path / "b", level=0.9)  # a file, and a folder holding a hw leaderboard
    assert (c.a, c.b) == (str(tmp_path / "a.json"), str(tmp_path / "b"))
    assert list(c.table.columns) == ["mean_a", "mean_b", "diff", "ci_low", "ci_high", "rank_a", "rank_b"]
    assert list(c.table.index) == ["rea", "bohb ~ bohb:schedule=hpbandster", "random"]  # by A's rank, ties in A's order
    assert (c.only_a, c.only_b) == (["ls:start=1"], ["ls:start=2", "ls:start=3"])  # two candidates: not paired
    for name, (x, y) in {"rea": (a["rea"], b["rea"]), "random": (a["random"], b["random"]),
                         "bohb ~ bohb:schedule=hpbandster": (a["bohb"], b["bohb:schedule=hpbandster"])}.items():
        interval = stats.ttest_ind(y, x, equal_var=False).confidence_interval(0.9)
        np.testing.assert_allclose(c.table.loc[name, ["ci_low", "ci_high"]].to_numpy(float),
                                   [interval.low, interval.high], rtol=1e-9)
    assert (c.tau_rank, c.tau_score) == (pytest.approx(stats.kendalltau([1.5, 1.5, 3], [2, 3, 1])[0]),
                                         pytest.approx(stats.kendalltau(c.table["mean_a"], c.table["mean_b"])[0]))
    assert c.tau_score > 0.3  # the means agree in order


def test_compare_needs_two_shared_strategies_for_a_tau_and_names_bad_inputs_exactly(tmp_path):
    import warnings

    from nasbench_suite.report.compare import format_comparison, load_leaderboard

    _write_board(tmp_path / "a.json", {"rea": [1.0, 2.0], "bo": [3.0, 4.0]}, {"rea": 1.0, "bo": 2.0})
    _write_board(tmp_path / "b.json", {"rea": [1.0, 3.0], "tpe": [2.0, 5.0], "hb": [1.0, 1.5]},
                 {"rea": 1.0, "tpe": 2.0, "hb": 3.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warns of a tau over one pair
        one = compare(tmp_path / "a.json", tmp_path / "b.json")
    assert len(one.table) == 1 and np.isnan(one.tau_rank) and np.isnan(one.tau_score)
    assert format_comparison(one).splitlines()[-2:] == ["only in A: bo", "only in B: tpe, hb"]
    _write_board(tmp_path / "c.json", {"rea": [1.0, 3.0], "bo": [4.0, 5.0]}, {"rea": 2.0, "bo": 1.0})
    two = compare(tmp_path / "a.json", tmp_path / "c.json")
    assert (two.tau_rank, two.tau_score) == (pytest.approx(-1.0), pytest.approx(1.0))
    assert load_leaderboard(tmp_path / "a.json").dtypes.tolist() == [np.float64] * 4
    _write_board(tmp_path / "d.json", {"tpe": [1.0, 3.0]}, {"tpe": 1.0})
    none = compare(tmp_path / "a.json", tmp_path / "d.json")  # nothing shared: an empty table, not an error
    assert (none.table.empty, list(none.table.columns)[:2], none.only_b) == (True, ["mean_a", "mean_b"], ["tpe"])
    (tmp_path / "ranks.json").write_text(jsonio.dumps({"leaderboard": [{"strategy": "rea", "score_mean": 1.0,
                                                                         "score_std": 0.1, "runs": 3}]}))
    (tmp_path / "scores.json").write_text(jsonio.dumps({"leaderboard": [{"strategy": "rea", "mean_rank": 1.0}]}))
    for path, message in (
            (tmp_path / "none", f"{tmp_path / 'none'}: no leaderboard here; expected a leaderboard.json or a folder "
                                "holding one (e.g. results/nb201-paper)"),
            (tmp_path / "ranks.json", f"{tmp_path / 'ranks.json'}: not a leaderboard of nasbench-suite benchmark or "
                                      "hw-benchmark (no final_mean or score_mean and mean_rank columns)"),
            (tmp_path / "scores.json", f"{tmp_path / 'scores.json'}: not a leaderboard of nasbench-suite benchmark or "
                                       "hw-benchmark (no final_mean or score_mean and mean_rank columns)")):
        with pytest.raises(UserInputError) as error:
            load_leaderboard(path)
        assert str(error.value) == message


# ---- written for the survivors of the report/site.py mutation run (eighth session) -------------------------------

def test_site_of_a_bare_leaderboard_folder_from_anywhere(tmp_path, monkeypatch):
    """A leaderboard without leaderboard.md or a recorded command; run folders skipped; the default out folder; the
    page's command the same whatever the working directory."""
    import pandas as pd

    results = tmp_path / "results"
    shutil.copytree(RESULTS / "nb201-paper", results / "paper")
    (results / "paper" / "leaderboard.md").unlink()
    data = jsonio.loads((results / "paper" / "leaderboard.json").read_text())
    del data["header"]["command"]
    (results / "paper" / "leaderboard.json").write_text(jsonio.dumps(data))
    shutil.copytree(results / "paper", results / "runs" / "old")  # a leaderboard kept with runs is not listed
    assert leaderboard_folders(results) == [results / "paper"]
    monkeypatch.chdir(results / "paper")
    html = render_site(results, highlight=["bo", "rea"])
    assert html == render_site(results, results / "site", highlight=["bo", "rea"])
    assert "<h2>results/paper</h2>" in html and "<pre><code>" not in html  # titled by its folder; no command
    assert "made by <code>nasbench-suite report results --out results/site --highlight bo,rea</code>" in html
    known = ", ".join(sorted(pd.read_csv(results / "paper" / "leaderboard.csv")["strategy"]))
    for folder, highlight, message in (
            (tmp_path / "none", (), f"results folder {tmp_path / 'none'} does not exist; expected a folder holding "
                                    "leaderboard.json files (e.g. results)"),
            (results, ("nope", "zzz"), "--highlight nope,zzz: no leaderboard has such a strategy; expected "
                                       f"comma-separated names among {known}")):
        with pytest.raises(UserInputError) as error:
            render_site(folder, highlight=highlight)
        assert str(error.value) == message


def test_build_site_links_from_where_the_page_is_written_and_keeps_the_highlight(tmp_path):
    import jinja2

    from nasbench_suite.report.site import _cell, _environment, build_site

    results = tmp_path / "results"
    shutil.copytree(RESULTS / "nb201-paper", results / "paper")
    html = build_site(results, tmp_path / "elsewhere", highlight=["rea"]).read_text()
    assert 'href="../results/paper/leaderboard.csv"' in html and "--out elsewhere --highlight rea</code>" in html
    assert [_cell(v).text for v in (999.5, 1000.0, -1000.0)] == ["999.50", "1,000", "-1,000"]
    with pytest.raises(jinja2.UndefinedError):  # a misspelt name in a template fails instead of rendering empty
        _environment().from_string("{{ boards }} {{ missing }}").render(boards=[])
