"""Break-glass: time-limited, audited emergency access without consent."""
