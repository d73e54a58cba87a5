"""Customer-experience experiments: declarations, assignment, exposure and analysis."""
