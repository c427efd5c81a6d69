"""Pure judgements: observations in, CheckResult out. One module per family."""
