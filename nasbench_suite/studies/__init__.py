"""Studies built on experiments: the zero-cost proxy report and surrogate-vs-table strategy rankings (above
`runner` and `report` in the layers; the CLI runs them as `proxy-report` and `surrogate ranking`)."""
