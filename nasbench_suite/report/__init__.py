"""Leaderboards and plots of simulated searches."""

from nasbench_suite.report.stats import (Curves, anytime, common_seeds, critical_difference, final_scores,
                                         leaderboard, rank_curves, ranks, timing)
from nasbench_suite.report.write import (environment, format_compact, format_leaderboard, markdown_table,
                                         write_report)

__all__ = ["Curves", "anytime", "common_seeds", "critical_difference", "environment", "final_scores",
           "format_compact", "format_leaderboard", "markdown_table", "leaderboard", "rank_curves", "ranks", "timing",
           "write_report"]
