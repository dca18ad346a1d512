"""Everything that speaks to skopeo: command lines, child processes, the runner, the failure table, retries."""
