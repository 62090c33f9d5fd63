"""The offline review: run the program under mocks, build the plan, render it (text, markdown, JSON,
diagram), and send a test event through a deployed trigger."""
