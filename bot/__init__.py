"""touchbase: a Slack bot with which a distributed team manages its customers."""
