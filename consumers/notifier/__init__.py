"""The notifier: agency inboxes → signed webhooks, e-mail and SMS."""
