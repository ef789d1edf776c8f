"""What a run leaves behind: run directories (`rundir`) and the generated format references
(`format_reference`)."""
